import Fleet
import Foundation

/// The published measurements a validation report compares with, as `scenarios/validation/cases.yaml` lists them
/// (docs/validation.md): sections of cases, each a scenario to run or an engine step to time, with the figures
/// published for it.
///
/// Each figure's value is kept as its source printed it, so that it is typed once and can be found verbatim in the
/// published text. Paths are as written, relative to the cases file.
public struct ValidationCases: Sendable {
    /// One published figure of a case.
    public struct Figure: Sendable, Equatable {
        /// The engine or benchmark that measured it, such as `SGLang v0.3.0`.
        public var engine: String
        /// The summary metric it is compared with (docs/metrics.md), or `step_ms` for a step.
        public var metric: String
        /// The figure as printed, such as `4,281.51`.
        public var published: String
        /// Its value: `published` without thousands separators.
        public var value: Double
        /// Why it is listed but not compared; nil when it is compared.
        public var notCompared: String?
    }

    /// One engine step: the columns of calibration's step CSV, on one setup.
    public struct Step: Sendable, Equatable {
        /// The GPU and model as written (catalog names).
        public var hardware: String
        public var model: String
        public var tensorParallelSize: Int
        /// `prefill` or `decode`.
        public var kind: String
        /// Sequences (1 for a prefill).
        public var batch: Int
        /// Prompt tokens of a prefill; `batch` for a decode.
        public var tokens: Int
        /// Tokens cached before a prefill's; tokens each decoding sequence holds.
        public var context: Int
    }

    /// What a case runs.
    public enum Subject: Sendable, Equatable {
        /// A scenario file, relative to the cases file.
        case scenario(String)
        /// One engine step.
        case step(Step)
    }

    /// A setup and the figures published for it.
    public struct Case: Sendable {
        /// The setup in a few words, such as `Llama-3.1-8B, 1×A100-80GB, 4 req/s`.
        public var setup: String
        /// What is run or timed.
        public var subject: Subject
        /// Whether the test suite recomputes it (short enough for a debug build), not only `make validate`.
        public var quick: Bool
        /// The figures, in the file's order.
        public var figures: [Figure]
        /// A remark for the report, if any.
        public var note: String?
    }

    /// Cases that share a source and a heading of the published text.
    public struct Section: Sendable {
        /// The report's heading for it.
        public var title: String
        /// The heading of the published text whose section holds every figure of its cases.
        public var publishedIn: String
        /// Where the published text got them.
        public var source: String
        /// What the cases measure and how they are compared.
        public var about: String?
        public var cases: [Case]
    }

    /// Something the published text holds that no case expresses, and why.
    public struct Omission: Sendable {
        public var what: String
        public var why: String
    }

    /// The cases file as named by the caller.
    public let file: String
    /// The published text the figures come from, relative to the cases file.
    public let published: String
    public let sections: [Section]
    public let notCompared: [Omission]

    /// The metric of a step's figures.
    public static let stepMetric = "step_ms"

    /// Reads the cases file at `path`.
    public static func load(path: String) throws(ScenarioError) -> ValidationCases {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioError(
                kind: FileManager.default.fileExists(atPath: path) ? .unreadable : .fileNotFound, file: path,
                line: nil, column: nil, path: "", message: "no readable cases file")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses cases text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ScenarioError) -> ValidationCases {
        let top = try YamlDocument.topMapping(
            text, file: file, keys: ScenarioKeys.validationCases,
            what: "a mapping with `published`, `sections` and `not-compared`")
        let published = try top.required("published", expecting: "the published text's path").string("a path")
        var sections: [Section] = []
        var setups: [String] = []
        let sectionsReader = try top.required("sections", expecting: "a list of sections")
        for item in try sectionsReader.sequence(nonEmpty: true, of: "sections") {
            let fields = try item.mapping(keys: ScenarioKeys.validationSection, what: "a section")
            var cases: [Case] = []
            let casesReader = try fields.required("cases", expecting: "a list of cases")
            for caseReader in try casesReader.sequence(nonEmpty: true, of: "cases") {
                let entry = try readCase(caseReader)
                guard !setups.contains(entry.setup) else {
                    throw caseReader.error("setup `\(entry.setup)` is listed twice; each case needs its own")
                }
                setups.append(entry.setup)
                cases.append(entry)
            }
            sections.append(
                Section(
                    title: try fields.required("title", expecting: "a heading").string(),
                    publishedIn: try fields.required("published-in", expecting: "a heading of the published text")
                        .string(),
                    source: try fields.required("source", expecting: "where the figures were published").string(),
                    about: try fields["about"]?.string(), cases: cases))
        }
        var omissions: [Omission] = []
        for item in try top["not-compared"]?.sequence(nonEmpty: false, of: "omissions") ?? [] {
            let fields = try item.mapping(keys: ScenarioKeys.validationOmission, what: "`what` and `why`")
            omissions.append(
                Omission(
                    what: try fields.required("what", expecting: "what is not compared").string(),
                    why: try fields.required("why", expecting: "why").string()))
        }
        return ValidationCases(file: file, published: published, sections: sections, notCompared: omissions)
    }

    private static func readCase(_ reader: NodeReader) throws(ScenarioError) -> Case {
        let fields = try reader.mapping(keys: ScenarioKeys.validationCase, what: "a case")
        let setup = try fields.required("setup", expecting: "the setup in a few words").string()
        let subject: Subject
        switch (fields["scenario"], fields["step"]) {
        case (let scenario?, nil): subject = .scenario(try scenario.string("a scenario file"))
        case (nil, let step?): subject = .step(try readStep(step))
        default: throw reader.error("a case has one of `scenario` and `step`")
        }
        let quick = try fields.required("quick", expecting: "true or false").bool()
        var figures: [Figure] = []
        for item in try fields.required("figures", expecting: "a list of figures").sequence(
            nonEmpty: true, of: "figures")
        {
            let figure = try item.mapping(keys: ScenarioKeys.validationFigure, what: "a figure")
            let metricReader = try figure.required("metric", expecting: "a summary metric")
            let metric = try metricReader.name()
            if case .step = subject, metric != stepMetric {
                throw metricReader.expected("`\(stepMetric)`, a step's only metric")
            }
            let publishedReader = try figure.required("published", expecting: "the figure as printed, quoted")
            let published = try publishedReader.string("the figure as printed, quoted")
            guard let value = printedNumber(published) else {
                throw publishedReader.expected("a positive number as printed, like \"4,281.51\"")
            }
            figures.append(
                Figure(
                    engine: try figure.required("engine", expecting: "who measured it").string(), metric: metric,
                    published: published, value: value, notCompared: try figure["not-compared"]?.string()))
        }
        return Case(setup: setup, subject: subject, quick: quick, figures: figures, note: try fields["note"]?.string())
    }

    /// The value of a number printed as `1234.5` or `1,234.5` (thousands in groups of three); nil for anything
    /// else, or for zero.
    static func printedNumber(_ text: String) -> Double? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        let groups = parts[0].split(separator: ",", omittingEmptySubsequences: false)
        let digits = { (part: Substring) in part.allSatisfy { ("0"..."9").contains($0) } }
        guard groups.allSatisfy(digits), parts.count == 1 || digits(parts[1]),
            groups.count == 1 || (groups[0].count <= 3 && groups.dropFirst().allSatisfy { $0.count == 3 })
        else { return nil }
        guard let value = Double(text.replacingOccurrences(of: ",", with: "")), value > 0 else { return nil }
        return value
    }

    private static func readStep(_ reader: NodeReader) throws(ScenarioError) -> Step {
        let fields = try reader.mapping(keys: ScenarioKeys.validationStep, what: "a step")
        let hardwareReader = try fields.required("hardware", expecting: "a GPU")
        let hardware = try hardwareReader.string()
        guard GPUSpec.named(hardware) != nil else {
            throw hardwareReader.error(
                "unknown hardware `\(hardware)`" + Suggestions.hint(for: hardware, among: GPUSpec.knownNames))
        }
        let modelReader = try fields.required("model", expecting: "a model")
        let model = try modelReader.string()
        guard LLMSpec.named(model) != nil else {
            throw modelReader.error(
                "unknown model `\(model)`" + Suggestions.hint(for: model, among: LLMSpec.knownNames))
        }
        let tp = try fields["tensor-parallel-size"]?.integer(in: 1...64) ?? 1
        let largest = 100_000_000
        switch (fields["prefill"], fields["decode"]) {
        case (let prefill?, nil):
            let shape = try prefill.mapping(keys: ScenarioKeys.validationPrefill, what: "`tokens` and `context`")
            let tokens = try shape.required("tokens", expecting: "prompt tokens").integer(in: 1...largest)
            let context = try shape["context"]?.integer(in: 0...largest) ?? 0
            return Step(
                hardware: hardware, model: model, tensorParallelSize: tp, kind: "prefill", batch: 1, tokens: tokens,
                context: context)
        case (nil, let decode?):
            let shape = try decode.mapping(keys: ScenarioKeys.validationDecode, what: "`batch` and `context`")
            let batch = try shape.required("batch", expecting: "sequences").integer(in: 1...largest)
            let context = try shape.required("context", expecting: "tokens per sequence").integer(in: 1...largest)
            return Step(
                hardware: hardware, model: model, tensorParallelSize: tp, kind: "decode", batch: batch, tokens: batch,
                context: context)
        default: throw reader.error("a step has one of `prefill` and `decode`")
        }
    }
}
