"""The endpoint's query page: a form, the library's queries as examples (their parameters bound by VALUES), no
resource from outside, so it works offline."""

from __future__ import annotations

import html

from ..consts import PREFIXES
from .library import bound_text, list_queries

_OWN = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("sk", "prov", "rdfs"))
#: The first example: the plan steps of every loaded case.
STEPS_PER_CASE = (
    f"{_OWN}SELECT ?case (COUNT(?step) AS ?steps) WHERE {{\n"
    "  ?step a sk:PlanStep ; prov:wasGeneratedBy ?run .\n  ?run prov:used ?case .\n  ?case a sk:Case .\n"
    "} GROUP BY ?case"
)


def examples() -> dict[str, str]:
    """Title → query text: steps per case, then every query of the library as spinekg runs it, its example
    parameters bound by a VALUES clause (so the text runs as shown here, or on any SPARQL 1.1 engine).

    >>> e = examples()
    >>> list(e)[0], "plan-steps: " in " ".join(e), e[next(k for k in e if k.startswith("kb-modules"))].count("VALUES")
    ('steps per loaded case', True, 0)
    """
    out = {"steps per loaded case": STEPS_PER_CASE}
    for info in list_queries():
        out[f"{info.name}: {info.summary}"] = bound_text(info, info.example_params)
    return out


def query_page(graphs: dict[str, int], limits: str) -> bytes:
    """The page: the limits, a form whose example list holds :func:`examples`, and the named graphs' sizes."""
    shown = examples()
    options = "".join(
        f'<option value="{html.escape(k)}" data-query="{html.escape(text)}">{html.escape(k)}</option>'
        for k, text in shown.items()
    )
    items = "".join(f"<li><code>{html.escape(n)}</code> ({count} triples)</li>" for n, count in graphs.items())
    return PAGE.format(
        example=html.escape(shown["steps per loaded case"]),
        options=options,
        graphs=items,
        limits=html.escape(limits),
    ).encode()


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>spinekg SPARQL endpoint</title>
<style>body{{font-family:sans-serif;margin:1.5em;max-width:70em}}textarea{{width:100%;font-family:monospace}}
table{{border-collapse:collapse}}td,th{{border:1px solid #aaa;padding:2px 6px;font-size:90%;text-align:left}}
pre{{background:#f4f4f4;padding:.5em;overflow:auto}}</style></head>
<body><h1>spinekg SPARQL endpoint</h1>
<p>SPARQL 1.1 Protocol at <code>query</code> (GET or POST). {limits}</p>
<form id="f" method="get" action="query">
<label>example <select id="ex">{options}</select></label>
<textarea name="query" id="q" rows="14">{example}</textarea><br>
<label>format <select name="format" id="fmt"><option value="json">JSON</option><option value="xml">XML</option>
<option value="csv">CSV</option><option value="tsv">TSV</option><option value="ttl">Turtle (CONSTRUCT/DESCRIBE)</option>
</select></label> <button type="submit">Run</button></form>
<div id="out"></div>
<h2>Named graphs</h2><ul>{graphs}</ul>
<script>
const types = {{json: "application/sparql-results+json", xml: "application/sparql-results+xml",
  csv: "text/csv", tsv: "text/tab-separated-values", ttl: "text/turtle"}};
document.getElementById("ex").addEventListener("change", (e) => {{
  document.getElementById("q").value = e.target.selectedOptions[0].dataset.query;
}});
document.getElementById("f").addEventListener("submit", async (e) => {{
  e.preventDefault();
  const out = document.getElementById("out");
  out.textContent = "running…";
  const r = await fetch("query", {{method: "POST", body: document.getElementById("q").value,
    headers: {{"Content-Type": "application/sparql-query", "Accept": types[document.getElementById("fmt").value]}}}});
  const text = await r.text();
  out.replaceChildren();
  const ct = r.headers.get("Content-Type") || "";
  if (r.ok && ct.startsWith("application/sparql-results+json") && JSON.parse(text).results) {{
    const res = JSON.parse(text), table = document.createElement("table"), head = table.insertRow();
    for (const v of res.head.vars) head.appendChild(document.createElement("th")).textContent = v;
    for (const b of res.results.bindings) {{
      const row = table.insertRow();
      for (const v of res.head.vars) row.insertCell().textContent = b[v] ? b[v].value : "";
    }}
    out.append(`${{res.results.bindings.length}} rows`, table);
  }} else {{
    out.appendChild(document.createElement("pre")).textContent = `${{r.status}} ${{r.statusText}}\\n${{text}}`;
  }}
}});
</script></body></html>
"""
