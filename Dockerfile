FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e . && SECRET_KEY=build python manage.py collectstatic --noinput
ENV DJANGO_SETTINGS_MODULE=portal.settings WHITENOISE_USE_FINDERS=false
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000"]
