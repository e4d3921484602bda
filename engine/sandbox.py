"""Where BPMN expressions and scripts run: RestrictedPython, never plain eval/exec.

A BPMN file is code (gateway conditions, scripts, timer expressions, assignee expressions). Every piece is
checked twice: `check()` when the process registry loads a file (a static whitelist: names, literals,
subscripts, operators and calls of the few functions we provide — no attribute access at all, so no dunder
walk, no `str.format` trick) and RestrictedPython compilation with guarded builtins at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.compile import CompileResult
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, safer_getattr
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

# Functions BPMN code may call. `deadline` is bound per evaluation (it reads the task's anchors).
SAFE_FUNCTIONS = frozenset({"deadline", "len", "min", "max", "str", "int", "bool", "any", "all", "sorted"})


class UnsafeCode(ValueError):
    """BPMN code that uses something outside the sandbox."""


_ALLOWED_NODES = (
    ast.Expression, ast.Module, ast.Expr, ast.Assign, ast.Name, ast.Load, ast.Store, ast.Constant,
    ast.Subscript, ast.Slice, ast.Dict, ast.List, ast.Tuple, ast.Set, ast.Compare, ast.BoolOp, ast.UnaryOp,
    ast.BinOp, ast.IfExp, ast.Call, ast.keyword, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Eq,
    ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.Add, ast.Sub,
    ast.Mult, ast.Div, ast.Mod, ast.FloorDiv, ast.If, ast.Pass, ast.ListComp, ast.comprehension,
)


def check(source: str, mode: str = "eval") -> None:
    """Refuse code that steps outside what a process definition needs (raises UnsafeCode)."""
    try:
        tree = ast.parse(source.strip(), mode=mode)
    except SyntaxError as exc:
        raise UnsafeCode(f"cú pháp không hợp lệ / syntax error: {exc.msg}") from exc
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise UnsafeCode(f"không được phép / not allowed: {type(node).__name__}")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise UnsafeCode(f"tên không được phép / name not allowed: {node.id}")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in SAFE_FUNCTIONS
        ):
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise UnsafeCode(f"hàm không được phép / function not allowed: {name}")
    (_compile_eval if mode == "eval" else _compile_exec)(source.strip())


def _code(result: CompileResult) -> CodeType:
    # RestrictedPython leaves `code` None exactly when it reports errors.
    if result.errors or result.code is None:
        raise UnsafeCode("; ".join(result.errors) or "no code")
    return result.code


@lru_cache(maxsize=1024)
def _compile_eval(source: str) -> CodeType:
    return _code(compile_restricted_eval(source))


@lru_cache(maxsize=1024)
def _compile_exec(source: str) -> CodeType:
    return _code(compile_restricted_exec(source))


_BUILTINS = {k: v for k, v in safe_builtins.items() if k not in {"setattr", "delattr", "__import__"}}
_BUILTINS.update({"len": len, "min": min, "max": max, "any": any, "all": all, "sorted": sorted})
_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_write_": full_write_guard,
}


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs RestrictedPython code over task data.

    `bind(context)` returns the per-evaluation functions that need the task data (e.g. `deadline`).
    """

    def __init__(self, bind: Callable[[dict[str, Any]], dict[str, Callable[..., Any]]] | None = None) -> None:
        super().__init__({})
        self._bind = bind or (lambda _context: {})

    def _globals(self, context: dict[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        env = dict(_GUARDS)
        env.update(external or {})
        env.update(context)
        env.update(self._bind(context))
        return env

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        return eval(_compile_eval(expression.strip()), self._globals(context, external_context))  # noqa: S307

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        env = self._globals(context, external_context)
        before = set(env)
        exec(_compile_exec(script), env)  # noqa: S102 - restricted code object
        bound = self._bind(context)
        for key in set(env) - before | set(context):
            if key in env and not key.startswith("_") and key not in bound and not callable(env[key]):
                context[key] = env[key]
        return True

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise UnsafeCode("service tasks are not supported")
