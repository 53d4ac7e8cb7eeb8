from apps.core import context


def _parts(traceparent: str) -> list[str]:
    assert context.TRACEPARENT_RE.fullmatch(traceparent), traceparent
    return traceparent.split("-")


def test_a_child_is_a_new_span_in_its_parents_trace():
    parent = context.new_traceparent()
    children = [context.child_traceparent(parent) for _ in range(3)]
    assert {_parts(child)[1] for child in children} == {_parts(parent)[1]}
    assert len({_parts(child)[2] for child in [parent, *children]}) == 4


def test_what_is_not_a_traceparent_starts_a_new_trace():
    parent = context.new_traceparent()
    not_ones = [None, "", "garbage", parent.upper(), parent + "-", "0" * 55, "x" * 5000]
    traces = {_parts(context.child_traceparent(value))[1] for value in not_ones}
    assert len(traces) == len(not_ones)
    assert _parts(parent)[1] not in traces


def test_only_strings_of_a_traceparents_length_are_cached():
    context._trace_id.cache_clear()
    for n in range(50):
        context.child_traceparent(f"{n}" * 100)
    context.child_traceparent(context.new_traceparent())
    assert context._trace_id.cache_info().currsize == 1
