"""Schemathesis checks of our own (loaded by test_schemathesis through SCHEMATHESIS_HOOKS).

`error_code_documented`: an error answer's `code` is one the operation lists for that status in its
`x-error-codes` (csn.api.schema), so the codes the schema promises are the codes clients get."""

import schemathesis


@schemathesis.check
def error_code_documented(ctx, response, case):
    if response.status_code < 400:
        return None
    documented = (case.operation.definition.raw.get("x-error-codes") or {}).get(str(response.status_code), [])
    try:
        code = response.json().get("code")
    except Exception:  # a body that is not a problem: the schema conformance checks say so
        return None
    if code not in documented:
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code} `{code}`, not in its x-error-codes "
            f"for {response.status_code}: {documented}"
        )
    return None
