"""Provisioning: the launch state machine (launches, on Django and the AWS boundary) and what CloudFormation says
about a launch, made readable (progress, without Django)."""
