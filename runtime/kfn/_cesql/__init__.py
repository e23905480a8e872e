"""CloudEvents SQL (CESQL v1): filter events with SQL-like expressions over their attributes.

>>> expression = compile_expression("subject LIKE 'eu-%' AND EXISTS myext")
>>> expression.matches({"subject": "eu-west", "myext": "x"})
True
>>> expression.evaluate({"subject": 5}).errors[0].kind
<ErrorKind.MISSING_ATTRIBUTE: 'missingAttribute'>

Compile once (a syntax error raises CesqlSyntaxError), then evaluate per event; an
evaluation never raises, it returns a value and the errors it met. Pure Python,
standard library only. Written from the specification (spec.md of cloudevents/spec,
cesql/) and checked against its TCK.
"""

from kfn._cesql._errors import CesqlError, CesqlSyntaxError, ErrorKind
from kfn._cesql._expression import EvaluationResult, Expression, compile_expression
from kfn._cesql._values import Value

__all__ = [
    "CesqlError",
    "CesqlSyntaxError",
    "ErrorKind",
    "EvaluationResult",
    "Expression",
    "Value",
    "compile_expression",
]
