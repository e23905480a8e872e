"""CloudEvents SQL: filter events with SQL-like expressions over their attributes.

>>> expression = compile_expression("subject LIKE 'eu-%' AND EXISTS myext")
>>> expression.matches({"subject": "eu-west", "myext": "x"})
True
>>> compile_expression("priority > 5").evaluate({}).errors[0].kind
<ErrorKind.MISSING_ATTRIBUTE: 'missingAttribute'>

Compile once (a syntax error raises CesqlSyntaxError), then evaluate per event; an
evaluation never raises, it returns a value and the error it met, if any. Pure
Python, standard library only. The semantics are those of cloudevents sdk-go
``sql/v2``, which Knative's webhook and broker filter use, where they differ from
the specification's prose (see the README's CESQL section).
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
