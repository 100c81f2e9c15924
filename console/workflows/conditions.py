"""The condition language of gateway exits: a small, checked subset of JUEL, and its Python.

A condition is written the way Flowable and Camunda read it, ``${result == '补正'}``. The
designer accepts only what both sides mean the same way, so an export runs alike in a JUEL
engine and in SpiffWorkflow (whose conditions are Python):

==========================================  ==========================================
JUEL (what the designer stores and exports)  Python (what SpiffWorkflow evaluates)
==========================================  ==========================================
``${`` … ``}`` around the expression         the expression alone
``==  !=  <  <=  >  >=``                     the same operators
``eq ne lt le gt ge``                        ``==  !=  <  <=  >  >=``
``&&`` / ``and``, ``||`` / ``or``            ``and``, ``or``
``!`` / ``not``                              ``not``
``'text'`` or ``"text"``, ``12``, ``1.5``    the same literals
``true`` / ``false``                         ``True`` / ``False``
a variable name (``result``, ``面积``)        the same name, read from the task's data
``( … )``                                    the same grouping
==========================================  ==========================================

Anything else (method calls, arithmetic, ``empty``, property access, ``null``) is refused
with a reason, so a design never holds a condition an engine would read differently.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import unicodedata

EXPRESSION_LANGUAGE = "http://www.jcp.org/en/jsr/detail?id=341"  # Jakarta/JSR-341 EL (JUEL)
_WORD_OPERATORS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "true": "True",
    "false": "False",
}
_SYMBOL_OPERATORS = {"&&": "and", "||": "or", "!": "not"}
# JUEL words that are not variables; the subset has no use for them.
_RESERVED = {"null", "empty", "div", "mod", "instanceof"}
_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


class ConditionError(ValueError):
    """The condition is outside the designer's subset; the message says why, in Chinese."""


def _inner(condition: str) -> str:
    text = condition.strip()
    if not (text.startswith("${") and text.endswith("}")):
        raise ConditionError("条件须写成 ${…}，例如 ${result == '补正'}")
    inner = text[2:-1].strip()
    if not inner:
        raise ConditionError("条件 ${} 中没有表达式")
    return inner


def _spaced_symbols(inner: str) -> str:
    # Python's tokenizer reads "&&", "||" and a lone "!" as errors: give them word form first,
    # outside string literals only.
    out: list[str] = []
    quote = ""
    index = 0
    while index < len(inner):
        char = inner[index]
        if quote:
            out.append(char)
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
            out.append(char)
        elif inner.startswith(("&&", "||"), index):
            out.append(f" {_SYMBOL_OPERATORS[inner[index : index + 2]]} ")
            index += 1
        elif char == "!" and not inner.startswith("!=", index):
            out.append(" not ")
        else:
            out.append(char)
        index += 1
    if quote:
        raise ConditionError("条件中的字符串缺少结束引号")
    return "".join(out)


# What JUEL and Python write alike: plain quoted strings (no escapes), decimal numbers.
_STRING = re.compile(r"""^('[^'\\\n]*'|"[^"\\\n]*")$""")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_PYTHON_ONLY_NAMES = {"True", "False", "None"}


def _checked_token(token: tokenize.TokenInfo, previous: int) -> str:
    """The token's text for Python, once it is one both languages read the same way."""
    text = token.string
    if token.type == tokenize.COMMENT or "\\" in text:
        raise ConditionError("条件中不能有注释或反斜杠")
    if token.type == tokenize.STRING:
        if not _STRING.match(text):
            raise ConditionError("字符串只能写成 '文本' 或 \"文本\"（不带前缀、转义或三引号）")
        if previous == tokenize.STRING:
            raise ConditionError("两个字符串之间缺少比较符")
    elif token.type == tokenize.NUMBER and not _NUMBER.match(text):
        raise ConditionError(f"数字 {text} 应写成十进制，如 12 或 1.5")
    elif token.type == tokenize.NAME:
        if text in _PYTHON_ONLY_NAMES:
            raise ConditionError(f"条件中请用小写的 true / false，不支持 {text}")
        if unicodedata.normalize("NFKC", text) != text:  # ｒｅｓｕｌｔ would read as result
            raise ConditionError(f"变量名 {text} 含全角或兼容字符")
        return _WORD_OPERATORS.get(text, text)
    return text


def _python_tokens(inner: str) -> str:
    if "\\" in inner:
        raise ConditionError("条件中不能有注释或反斜杠")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(_spaced_symbols(inner)).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        raise ConditionError("条件不是完整的表达式（括号或引号未闭合）") from None
    mapped, previous = [], -1
    for token in tokens:
        mapped.append((token.type, _checked_token(token, previous)))
        if token.type not in {tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER}:
            previous = token.type
    return tokenize.untokenize(mapped).strip()


def _check(node: ast.AST, source: str) -> None:
    if isinstance(node, ast.Expression):
        _check(node.body, source)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, source)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        # JUEL's ! binds tighter than ==, Python's not looser: !a == b means (!a) == b there
        # and not (a == b) here. Only the bracketed form reads the same in both.
        if isinstance(node.operand, ast.Compare) and not _bracketed(node.operand, source):
            raise ConditionError("! 或 not 之后的比较须加括号，如 !(result == '补正')")
        _check(node.operand, source)
    elif isinstance(node, ast.Compare):
        if not all(isinstance(op, _COMPARISONS) for op in node.ops):
            raise ConditionError("条件只能用 ==、!=、<、<=、>、>= 比较")
        if len(node.ops) > 1:  # a < b < c: a chain in Python, (a < b) < c in JUEL
            raise ConditionError("一次只能比较两个值，多个比较请用 && 连接")
        for value in (node.left, *node.comparators):
            _check_operand(value)
    elif isinstance(node, ast.Name | ast.Constant):
        _check_operand(node)
    else:
        raise ConditionError("条件只能由比较、and/or/not、变量名和字符串或数字组成")


def _bracketed(node: ast.expr, source: str) -> bool:
    """Whether the expression is written inside brackets in ``source`` (one line)."""
    # col_offset counts UTF-8 bytes, and variable names may be Chinese.
    before = source.encode("utf-8")[: node.col_offset].decode("utf-8", "ignore").rstrip()
    return before.endswith("(")


def _check_operand(node: ast.AST) -> None:
    if isinstance(node, ast.Name):
        if node.id in _RESERVED:
            raise ConditionError(f"条件不支持 {node.id}")
        return
    if isinstance(node, ast.Constant) and type(node.value) in {str, int, float, bool}:
        return
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in {int, float}
    ):
        return  # a negative number
    raise ConditionError("比较的两边只能是变量名、字符串或数字")


def to_python(condition: str) -> str:
    """The Python expression SpiffWorkflow evaluates for a designer condition.

    Raises:
        ConditionError: the condition is outside the subset (the reason is in Chinese).
    """
    python = _python_tokens(_inner(condition))
    if "\n" in python:
        raise ConditionError("条件须写在一行内")
    try:
        tree = ast.parse(python, mode="eval")
        _check(tree, python)
        return ast.unparse(tree)
    except (SyntaxError, RecursionError, MemoryError):
        raise ConditionError("条件不是完整的表达式（或嵌套过深）") from None


def variables(condition: str) -> list[str]:
    """The variable names a condition reads, each once."""
    tree = ast.parse(to_python(condition), mode="eval")
    names = [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]
    return list(dict.fromkeys(names))


def problem(condition: str) -> str:
    """Why a condition is outside the subset ("" when it is inside, or empty)."""
    if not condition.strip():
        return ""
    try:
        to_python(condition)
    except ConditionError as error:
        return str(error)
    return ""
