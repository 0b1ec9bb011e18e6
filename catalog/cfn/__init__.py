"""CloudFormation templates without Django: parse, lint, parameters, values, diffs.

`analysis.analyze(text)` is what the catalog calls on upload; the other modules are its parts.
Importing this package is cheap: cfn-lint (~0.5 s to import) loads on first use.
"""

from .analysis import TemplateAnalysis, analyze
from .diff import ParameterChange, parameter_diff
from .loader import LoadedTemplate, TemplateError, TemplateMessage, load_template
from .parameter_spec import ParameterSpec
from .parameters import extract_parameters, find_defects
from .values import coerce, validate_value

__all__ = [
    "LoadedTemplate", "ParameterChange", "ParameterSpec", "TemplateAnalysis", "TemplateError", "TemplateMessage",
    "analyze", "coerce", "extract_parameters", "find_defects", "load_template", "parameter_diff", "validate_value",
]
