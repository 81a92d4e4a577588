import Foundation
import ResultsStore

/// The page `infermesh report` writes: one self-contained HTML file (inline CSS and SVG, no script, nothing
/// fetched) with the comparison of `compare`, the charts of `plot`, each run's digest and reproduce command,
/// and the scenario text. The same database and arguments give the same bytes: nothing in it reads a clock.
struct HTMLReport {
    let comparison: ComparisonReport
    let versions: [ComparisonSelection.Version]
    /// The compared runs, in the comparison's order.
    let runs: [StoredRun]
    let data: PlotData
    /// `--db` as given, so that each reproduce command names the same database.
    let database: String

    /// The whole page.
    func render() -> String {
        var page = HTMLDocument()
        let name = comparison.scenario.name
        page.raw("<!DOCTYPE html>")
        page.open("html", [("lang", "en")])
        page.open("head")
        page.raw("<meta charset=\"utf-8\">")
        page.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        page.raw("<meta name=\"color-scheme\" content=\"light\">")
        page.element("title", text: "InferMesh report: \(name)")
        page.raw("<meta name=\"generator\" content=\"infermesh \(Markup.escape(ToolVersion.current))\">")
        page.open("style")
        page.raw(Self.css)
        page.close("style")
        page.close("head")
        page.open("body")
        page.open("header")
        page.element("h1", text: "InferMesh report: \(name)")
        if !comparison.scenario.description.isEmpty {
            page.element("p", [("class", "description")], text: comparison.scenario.description)
        }
        page.element("p", [("class", "headline")], text: comparison.headline())
        page.open("nav", [("aria-label", "sections")])
        for (anchor, title) in Self.sections {
            page.element("a", [("href", "#\(anchor)")], text: title)
        }
        page.close("nav")
        page.close("header")
        comparisonSection(&page)
        chartSections(&page)
        runsSection(&page)
        scenarioSection(&page)
        page.element(
            "footer",
            text: "Written by infermesh \(ToolVersion.current) from \(database). The same database gives the same page."
        )
        page.close("body")
        page.close("html")
        return page.render()
    }

    /// The page's sections: anchor and heading.
    static let sections = [
        ("comparison", "Comparison"), ("latency", "Latency"), ("replicas", "Replicas over time"),
        ("runs", "Runs"), ("scenario", "Scenario"),
    ]

    private func heading(_ page: inout HTMLDocument, _ anchor: String) {
        page.open("section", [("id", anchor)])
        page.element("h2", text: Self.sections.first { $0.0 == anchor }!.1)
    }

    private func comparisonSection(_ page: inout HTMLDocument) {
        heading(&page, "comparison")
        var notes = ["Each cell is the policy's mean over its runs"]
        if comparison.replications > 1 { notes.append(" ± the half-width of its 95% Student-t interval") }
        if let baseline = comparison.baseline {
            notes.append(
                "; in parentheses, the difference from \(baseline), starred (and bold) when Welch's t-test over "
                    + "replications finds it significant at 95% (never with one replication)")
        }
        page.element("p", text: notes.joined() + ". A dash: undefined (e.g. no completed requests).")
        if versions.count > 1 {
            page.element(
                "p",
                text: "Runs of \(versions.count) scenario versions; columns are policy@sha: "
                    + versions.map {
                        "\($0.label) = \($0.name), runs \($0.ids.map(String.init).joined(separator: ", "))"
                    }
                    .joined(separator: "; ") + ".")
        }
        page.open("div", [("class", "scroll")])
        page.open("table", [("id", "comparison-table")])
        page.open("thead")
        page.open("tr")
        page.element("th", [("scope", "col")], text: "metric")
        for (index, policy) in comparison.policies.enumerated() {
            page.open("th", [("scope", "col"), ("data-policy", policy)])
            swatch(&page, index)
            page.text(policy)
            page.close("th")
        }
        page.close("tr")
        page.close("thead")
        page.open("tbody")
        for row in comparison.gridRows() {
            page.open("tr", [("data-row", row.metric ?? row.label)])
            page.element("th", [("scope", "row")], text: row.label)
            for (policy, cell) in zip(comparison.policies, row.cells) {
                let significant = row.metric.flatMap { comparison.difference($0, policy: policy)?.significant } == true
                page.element(
                    "td", [("data-policy", policy)] + (significant ? [("class", "significant")] : []), text: cell)
            }
            page.close("tr")
        }
        page.close("tbody")
        page.close("table")
        page.close("div")
        page.close("section")
    }

    /// A short line in a policy's chart color, before its name.
    private func swatch(_ page: inout HTMLDocument, _ index: Int) {
        page.open("span", [("class", "swatch"), ("style", "border-color: \(ChartLegend.color(index))")])
        page.close("span")
    }

    private func chartSections(_ page: inout HTMLDocument) {
        let charts = Plots.all(data)
        heading(&page, "latency")
        for (index, (file, chart)) in charts.prefix(2).enumerated() {
            figure(
                &page, id: String(file.dropLast(4)), chart: chart,
                caption: (index == 0 ? "Time to first token" : "End-to-end latency")
                    + " of the completed requests that arrived after the warm-up, over every run of each policy "
                    + "(log scale).")
        }
        page.close("section")
        heading(&page, "replicas")
        // PlotData draws each policy's first run.
        let columns = RunSelectionOptions.columns(of: runs)
        let drawn = data.policies.map { policy in "\(policy): run \(runs[columns.firstIndex(of: policy)!].id)" }
        var caption =
            "Each policy's first run (\(drawn.joined(separator: ", "))). A panel per gauge and, where the fleet has "
            + "several, per pool or cluster. A group of at most \(ReplicaSeries.individualLineLimit) replicas draws "
            + "a line per replica; a larger one its mean, its p10–p90 band and its worst replica (the one whose "
            + "waiting requests peak highest). A line breaks where its replica was not provisioned."
        if data.spike != nil { caption += " The spike window is shaded orange." }
        if !data.faults.isEmpty { caption += " Faults are shaded gray." }
        figure(&page, id: "timeseries", chart: charts[2].chart, caption: caption)
        page.close("section")
    }

    private func figure(_ page: inout HTMLDocument, id: String, chart: SVGDocument, caption: String) {
        page.open("figure", [("id", id)])
        page.open("div", [("class", "chart")])
        page.raw(chart.render(.inline))
        page.close("div")
        page.element("figcaption", text: caption)
        page.close("figure")
    }

    private func runsSection(_ page: inout HTMLDocument) {
        heading(&page, "runs")
        page.element(
            "p",
            text: "Each run re-runs from the scenario text, seed and policy stored with it; its reproduce command "
                + "says whether that gives the same digest.")
        page.open("div", [("class", "scroll")])
        page.open("table", [("id", "runs-table")])
        page.open("thead")
        page.open("tr")
        for title in ["run", "policy", "seed", "replication", "version", "digest", "events", "reproduce"] {
            let text = ["run", "policy", "digest", "reproduce"].contains(title)
            page.element("th", [("scope", "col")] + (text ? [("class", "text")] : []), text: title)
        }
        page.close("tr")
        page.close("thead")
        page.open("tbody")
        for (run, column) in zip(runs, RunSelectionOptions.columns(of: runs)) {
            page.open("tr", [("data-run", String(run.id))])
            page.element("th", [("scope", "row")], text: String(run.id))
            page.open("td", [("class", "text")])
            swatch(&page, comparison.policies.firstIndex(of: column) ?? 0)
            page.text(column)
            page.close("td")
            for text in [String(run.seed), String(run.replication), run.toolVersion] {
                page.element("td", text: text)
            }
            page.open("td", [("class", "text")])
            page.element("code", [("class", "digest")], text: run.digest ?? "")
            page.close("td")
            page.element("td", text: run.events.map(String.init) ?? "")
            page.open("td", [("class", "text")])
            page.element("code", [("class", "reproduce")], text: reproduceCommand(run.id))
            page.close("td")
            page.close("tr")
        }
        page.close("tbody")
        page.close("table")
        page.close("div")
        page.close("section")
    }

    /// The command that re-runs run `id` from the same database.
    func reproduceCommand(_ id: Int64) -> String {
        "infermesh reproduce \(id)" + (database == defaultDatabasePath ? "" : " --db \(Self.shellQuoted(database))")
    }

    /// `text` as one POSIX shell word: bare when it has no special characters, else in single quotes.
    static func shellQuoted(_ text: String) -> String {
        let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+=:,./_-")
        guard text.isEmpty || !text.allSatisfy(plain.contains) else { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private func scenarioSection(_ page: inout HTMLDocument) {
        heading(&page, "scenario")
        for version in versions {
            let run = runs.first { $0.id == version.ids[0] }!
            if versions.count > 1 {
                page.element(
                    "h3",
                    text:
                        "\(version.label): \(version.name), runs \(version.ids.map(String.init).joined(separator: ", "))"
                )
            }
            page.element(
                "p",
                text: "sha256 \(run.scenarioSHA256), as stored with the runs (the file on disk may have changed since)."
            )
            // One line of markup: a line break between the tags would be part of the text.
            page.raw("<pre class=\"scenario\"><code>" + Markup.escape(run.scenarioText) + "</code></pre>")
        }
        page.close("section")
    }

    /// The page's style: a readable column that scrolls tables and code sideways on a phone, charts as wide as
    /// the column, and for print no backgrounds and no breaks inside a chart or table.
    static let css = """
        :root { color-scheme: light; }
        body { margin: 0 auto; max-width: 1040px; padding: 1rem 1.25rem 3rem; color: #1a1a1a; background: #fff;
          font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Helvetica, Arial, sans-serif; }
        h1 { font-size: 1.6rem; margin: 0.5rem 0; overflow-wrap: anywhere; }
        h2 { font-size: 1.25rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid #ddd; }
        h3 { font-size: 1.05rem; }
        .headline { color: #444; }
        nav { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; }
        a { color: inherit; text-underline-offset: 0.2em; }
        .scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%; }
        table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.9rem; }
        th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #e3e3e3; white-space: nowrap; text-align: right; }
        thead th { border-bottom: 2px solid #999; }
        thead th:first-child { text-align: left; }
        th[scope=row], .text { text-align: left; }
        tbody th[scope=row] { position: sticky; left: 0; background: #fff; font-weight: normal; }
        td.significant { font-weight: 600; }
        .swatch { display: inline-block; width: 1em; border-top: 3px solid; vertical-align: middle;
          margin-right: 0.35em; }
        figure { margin: 1.25rem 0; }
        .chart { overflow-x: auto; -webkit-overflow-scrolling: touch; }
        .chart svg { display: block; width: 100%; height: auto; }
        figcaption { font-size: 0.9rem; color: #444; }
        code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.85rem; }
        pre { overflow-x: auto; padding: 0.75rem; background: #f6f8fa; border: 1px solid #e3e3e3; }
        footer { margin-top: 2rem; font-size: 0.85rem; color: #555; }
        @media (max-width: 600px) {
          body { padding: 0.75rem 0.75rem 2rem; font-size: 15px; }
          h1 { font-size: 1.3rem; }
          th, td { padding: 0.25rem 0.4rem; }
          /* Charts keep a legible size and scroll sideways, as the tables do. */
          .chart svg { min-width: 560px; }
        }
        @media print {
          body { max-width: none; padding: 0; color: #000; background: #fff; font-size: 11pt; }
          nav { display: none; }
          a { color: inherit; text-decoration: none; }
          .scroll, .chart { overflow: visible; }
          .chart svg { min-width: 0; }
          pre { background: #fff; white-space: pre-wrap; }
          tbody th[scope=row] { position: static; }
          figure, table, pre, tr { break-inside: avoid; page-break-inside: avoid; }
          h2, h3 { break-after: avoid; page-break-after: avoid; }
          .swatch { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
        }
        """
}

/// A minimal HTML writer: elements with escaped attributes and text, nested by `open` and `close`, one per
/// line.
struct HTMLDocument {
    private var lines: [String] = []

    /// Opens `tag`; close it with `close(_:)`.
    mutating func open(_ tag: String, _ attributes: [(String, String)] = []) {
        lines.append("<" + tag + Self.attributes(attributes) + ">")
    }

    mutating func close(_ tag: String) { lines.append("</\(tag)>") }

    /// An element holding escaped `text`.
    mutating func element(_ tag: String, _ attributes: [(String, String)] = [], text: String) {
        lines.append("<" + tag + Self.attributes(attributes) + ">" + Markup.escape(text) + "</\(tag)>")
    }

    /// Escaped text.
    mutating func text(_ text: String) { lines.append(Markup.escape(text)) }

    /// Markup made elsewhere (an inline SVG), as is, on lines of its own.
    mutating func raw(_ markup: String) { lines.append(markup.hasSuffix("\n") ? String(markup.dropLast()) : markup) }

    func render() -> String { lines.joined(separator: "\n") + "\n" }

    private static func attributes(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(Markup.escape($0.1))\"" }.joined()
    }
}
