import Foundation
import Scenarios
import TestSupport
import Testing

@testable import InferMeshCLI

/// docs/validation.md and the cases behind it (scenarios/validation/): the committed report has the quick cases'
/// rows exactly as they compute now, every published figure is in the published text, and a row is what its command
/// prints. `make validate-check` checks the whole report, long runs included.
@Suite struct ValidationReportTests {
    static let root = Repository.root
    static let casesPath = "scenarios/validation/cases.yaml"

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    static func cases() throws -> ValidationCases {
        try ValidationCases.load(path: root.appendingPathComponent(casesPath).path)
    }

    /// The quick cases (an engine step, short runs: about two seconds in a debug build), recomputed, are in the
    /// committed report exactly as computed.
    @Test func theCommittedReportHasTheQuickRowsAsTheyComputeNow() throws {
        let report = try ValidationReport.compute(root: Self.root, casesPath: Self.casesPath, quick: true, jobs: 2)
        let committed = try Self.text("docs/validation.md")
        let mismatches = report.mismatches(in: committed)
        #expect(
            mismatches.isEmpty,
            "docs/validation.md is out of date; run make validate:\n\(mismatches.joined(separator: "\n"))")
        // The quick cases hold the step and runs of both kinds.
        #expect(report.rows.contains { $0.figure.metric == ValidationCases.stepMetric })
        #expect(report.rows.contains { $0.figure.metric == "e2e_ms_mean" })
        #expect(report.rows.contains { $0.figure.metric == "tpot_ms_p50" })
        // A changed figure is reported with its row.
        let line = report.line(try #require(report.rows.first { !$0.predictions.isEmpty }))
        let stale = committed.replacingOccurrences(of: line, with: line.replacingOccurrences(of: " | −", with: " | +"))
        #expect(stale != committed)
        #expect(report.mismatches(in: stale).count == 1)
    }

    /// The text under a `## ` heading of a markdown file, up to the next one.
    static func section(_ heading: String, of text: String) -> String? {
        guard let start = text.range(of: "\n## \(heading)\n") else { return nil }
        let rest = text[start.upperBound...]
        return String(rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)])
    }

    /// Whether `figure` occurs in `text` as a number of its own: not inside a longer one.
    static func occurs(_ figure: String, in text: String) -> Bool {
        var searchFrom = text.startIndex
        while let range = text.range(of: figure, range: searchFrom..<text.endIndex) {
            let before = range.lowerBound > text.startIndex ? text[text.index(before: range.lowerBound)] : " "
            let after = range.upperBound < text.endIndex ? text[range.upperBound] : " "
            let digitAfter =
                after.isNumber || (after == "." && text[range.upperBound...].dropFirst().first?.isNumber == true)
            if !before.isNumber && before != "." && before != "," && !digitAfter { return true }
            searchFrom = range.upperBound
        }
        return false
    }

    /// Each figure is typed once, in cases.yaml, and is in the published text verbatim, under the heading its
    /// section names.
    @Test func everyPublishedFigureIsInThePublishedText() throws {
        let cases = try Self.cases()
        #expect(cases.published == "../../Tests/DomainTests/Fixtures/calibration/published.md")
        let publishedPath = "Tests/DomainTests/Fixtures/calibration/published.md"
        let published = try Self.text(publishedPath)
        var count = 0
        for section in cases.sections {
            let text = try #require(
                Self.section(section.publishedIn, of: published), "no heading `\(section.publishedIn)` in published.md")
            for entry in section.cases {
                for figure in entry.figures {
                    #expect(Self.occurs(figure.published, in: text), "\(entry.setup): \(figure.published)")
                    count += 1
                }
            }
        }
        #expect(count == 43)
        #expect(Self.occurs("31.98", in: "| 31.98 |") && !Self.occurs("1.98", in: "| 31.98 |"))
        #expect(!Self.occurs("6.5", in: "6.55 ms") && Self.occurs("6.5", in: "about 6.5 ms per"))
    }

    /// The scenarios of scenarios/validation/ are the ones the cases run, each documented at the top, and each
    /// loads.
    @Test func everyValidationScenarioIsACaseAndLoads() throws {
        let folder = Self.root.appendingPathComponent("scenarios/validation")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".yaml") && $0 != "cases.yaml" }.sorted()
        let named = try Self.cases().sections.flatMap(\.cases).compactMap { entry -> String? in
            guard case .scenario(let file) = entry.subject else { return nil }
            return file
        }
        #expect(files == named.sorted())
        for file in files {
            let scenario = try ScenarioLoader.load(path: folder.appendingPathComponent(file).path)
            #expect(scenario.sourceText.hasPrefix("# yaml-language-server"), "\(file)")
            #expect(scenario.sourceText.contains("# Published: "), "\(file) says where its figures come from")
            #expect(scenario.name + ".yaml" == file)
        }
    }

    /// A row's predictions are what the commands it names print: `infermesh run … --set … --format json` and
    /// `infermesh timing … --format json`.
    @Test func aRowIsWhatItsCommandPrints() throws {
        let report = try ValidationReport.compute(root: Self.root, casesPath: Self.casesPath, quick: true)
        let folder = try TemporaryDirectory.make("infermesh-validation")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try #require(report.rows.first { $0.figure.metric == "e2e_ms_mean" })
        let scenario = Self.root.appendingPathComponent("scenarios/validation/vllm-ci-h200-llama31-8b.yaml").path
        let printed = CLITests.invoke([
            "run", scenario, "--set", "pools[0].gpu.timing=roofline", "--format", "json", "--db",
            folder.appendingPathComponent("r.sqlite").path,
        ])
        #expect(printed.status == 0, "\(printed.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(printed.out.utf8)) as? [String: Any])
        let policy = try #require((json["policies"] as? [[String: Any]])?.first)
        let mean = try #require((policy["mean"] as? [String: Any])?["e2e_ms_mean"] as? Double)
        #expect(
            run.predictions == [
                .value(mean), .unavailable("no fitted profile for Llama-3-8B on H200-141GB at tensor-parallel-size 1"),
            ])

        let step = try #require(report.rows.first { $0.figure.metric == ValidationCases.stepMetric })
        let timed = CLITests.invoke(["timing", "H200-141GB", "Llama-3.1-8B", "--decode", "8x96", "--format", "json"])
        let object = try #require(
            (try JSONSerialization.jsonObject(with: Data(timed.out.utf8)) as? [[String: Any]])?.first)
        #expect(step.predictions.first == .value(try #require(object["roofline"] as? Double)))
        #expect(object["fitted"] == nil)
    }

    /// A cases file with one case whose lines are `entry`.
    static func casesText(_ entry: String) -> String {
        """
        published: published.md
        sections:
          - title: T
            published-in: H
            source: S
            cases:
              - setup: A
        """ + "\n" + entry.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
    }

    /// Mistakes in a cases file are located.
    @Test(arguments: [
        (
            """
                scenario: a.yaml
                quick: true
                figures:
                  - {engine: x, metric: e2e_ms_p50, published: "1.564,17"}
            """,
            "cases.yaml:11:56: error: at sections[0].cases[0].figures[0].published: expected a positive number as "
                + "printed, like \"4,281.51\", found \"1.564,17\""
        ),
        (
            """
                step: {hardware: H300, model: Llama-3-8B, decode: {batch: 8, context: 96}}
                quick: true
                figures:
                  - {engine: x, metric: step_ms, published: "6.5"}
            """,
            "cases.yaml:8:26: error: at sections[0].cases[0].step.hardware: unknown hardware `H300`; did you mean "
                + "`H100`?"
        ),
        (
            """
                step: {hardware: H100, model: Llama-3-8B, decode: {batch: 8, context: 96}}
                quick: true
                figures:
                  - {engine: x, metric: e2e_ms_p50, published: "6.5"}
            """,
            "cases.yaml:11:33: error: at sections[0].cases[0].figures[0].metric: expected `step_ms`, a step's only "
                + "metric, found \"e2e_ms_p50\""
        ),
    ])
    func mistakesInTheCasesAreLocated(entry: String, message: String) {
        do {
            _ = try ValidationCases.parse(Self.casesText(entry), file: "cases.yaml")
            Issue.record("accepted: \(entry)")
        } catch {
            #expect(error.description == message)
        }
    }

    /// `--quick` needs `--check`: a partial report must not overwrite the whole one.
    @Test func quickNeedsCheck() {
        let result = CLITests.invoke(["validation-report", "--quick"])
        #expect(result.status == 64)
        #expect(
            result.err.hasPrefix(
                "Error: --quick computes only some of the rows, so it needs --check (it writes nothing)\n"))
    }

    /// `--check` names the first line that differs.
    @Test func differencesNameTheFirstLine() {
        #expect(ValidationReportCommand.differences("a\nb\n", "a\nb\n").isEmpty)
        #expect(
            ValidationReportCommand.differences("a\nb\nc\n", "a\nB\nc\n") == [
                "line 2 reads", "  b", "but would be", "  B",
            ])
    }
}
