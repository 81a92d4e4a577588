import Foundation
public import Scenarios

/// One measured engine step: a row of a step-time CSV (`kind,batch,tokens,context,ms`).
public struct StepSample: Sendable, Equatable {
    /// A prefill or a decode step.
    public enum Kind: String, Sendable, CaseIterable {
        case prefill, decode
    }

    /// The file as the user named it.
    public var input: String
    /// The row's line in the file (1-based).
    public var line: Int
    public var kind: Kind
    /// Sequences in the step.
    public var batch: Int
    /// Prefill: the step's prompt tokens. Decode: equal to `batch`.
    public var tokens: Int
    /// Prefill: tokens already cached before the step's prompt tokens. Decode: the tokens each sequence holds.
    public var context: Int
    /// The step's wall time.
    public var milliseconds: Double

    public init(input: String, line: Int, kind: Kind, batch: Int, tokens: Int, context: Int, milliseconds: Double) {
        self.input = input
        self.line = line
        self.kind = kind
        self.batch = batch
        self.tokens = tokens
        self.context = context
        self.milliseconds = milliseconds
    }

    /// The step as the simulator's engine would run it. A prefill of several sequences is `batch` equal chunks, each
    /// after an equal share of the cached context.
    public var shape: StepShape {
        switch kind {
        case .decode: return .decode(batch: batch, context: context)
        case .prefill:
            guard batch > 1 else { return .prefill(tokens: tokens, context: context) }
            let b = Double(batch)
            let t = Double(tokens) / b
            let c = Double(context) / b
            return StepShape(prefillTokens: tokens, prefillAttentionPairs: b * (t * c + t * (t + 1) / 2))
        }
    }

    /// `line 3: decode 8 x 576`, for reports.
    public var label: String {
        switch kind {
        case .decode: return "line \(line): decode \(batch) x \(context)"
        case .prefill:
            let cached = context > 0 ? " after \(context) cached" : ""
            let sequences = batch > 1 ? " in \(batch) sequences" : ""
            return "line \(line): prefill \(tokens)\(cached)\(sequences)"
        }
    }
}

/// Reads step-time CSV files: a header naming `kind`, `batch`, `tokens`, `context` and `ms` (in any order; other
/// columns are ignored, since engine logs carry more), then one row per step.
public enum StepTimeFile {
    /// The columns a step-time file must have.
    public static let columns = ["kind", "batch", "tokens", "context", "ms"]

    /// Reads `path`; errors name the file as `written` and give the line, column and field.
    public static func read(path: String, written: String) throws(ScenarioError) -> [StepSample] {
        let text = try InputFile.text(path: path, written: written)
        return try parse(text, file: written)
    }

    /// Parses CSV text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ScenarioError) -> [StepSample] {
        func failure(_ line: Int?, _ column: Int?, _ field: String, _ message: String) -> ScenarioError {
            ScenarioError(kind: .invalid, file: file, line: line, column: column, path: field, message: message)
        }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .map { (number: $0 + 1, text: Substring($1)) }
            .filter { !$0.text.allSatisfy(\.isWhitespace) && !$0.text.hasPrefix("#") }
        guard let header = lines.first else {
            throw failure(nil, nil, "", "the file is empty; expected a header `\(columns.joined(separator: ","))`")
        }
        let names = fields(header.text).map { $0.text.lowercased() }
        var index: [String: Int] = [:]
        for column in columns {
            guard let position = names.firstIndex(of: column) else {
                throw failure(
                    header.number, 1, "",
                    "the header has no column `\(column)`; expected `\(columns.joined(separator: ","))`")
            }
            index[column] = position
        }
        var samples: [StepSample] = []
        for row in lines.dropFirst() {
            let cells = fields(row.text)
            func cell(_ column: String) throws(ScenarioError) -> (text: String, column: Int) {
                let position = index[column]!
                guard position < cells.count else {
                    throw failure(
                        row.number, row.text.count + 1, column, "expected \(names.count) fields, found \(cells.count)")
                }
                return (cells[position].text, cells[position].column)
            }
            func integer(_ column: String, minimum: Int) throws(ScenarioError) -> Int {
                let (text, at) = try cell(column)
                guard let value = Int(text), value >= minimum else {
                    throw failure(row.number, at, column, "expected an integer >= \(minimum), found `\(text)`")
                }
                return value
            }
            let (kindText, kindColumn) = try cell("kind")
            guard let kind = StepSample.Kind(rawValue: kindText.lowercased()) else {
                throw failure(row.number, kindColumn, "kind", "expected `prefill` or `decode`, found `\(kindText)`")
            }
            let batch = try integer("batch", minimum: 1)
            let tokens = try integer("tokens", minimum: 1)
            let context = try integer("context", minimum: 0)
            let (msText, msColumn) = try cell("ms")
            guard let ms = Double(msText), ms.isFinite, ms > 0 else {
                throw failure(row.number, msColumn, "ms", "expected a step time in ms > 0, found `\(msText)`")
            }
            if kind == .decode, tokens != batch {
                throw failure(
                    row.number, try cell("tokens").column, "tokens",
                    "a decode step makes one token per sequence, so tokens must equal batch (\(batch)), found \(tokens)"
                )
            }
            if kind == .prefill, tokens < batch {
                throw failure(
                    row.number, try cell("tokens").column, "tokens",
                    "a prefill of \(batch) sequences has at least \(batch) tokens, found \(tokens)")
            }
            samples.append(
                StepSample(
                    input: file, line: row.number, kind: kind, batch: batch, tokens: tokens, context: context,
                    milliseconds: ms))
        }
        guard !samples.isEmpty else { throw failure(header.number, nil, "", "no rows after the header") }
        return samples
    }

    /// The comma-separated fields of a line, trimmed and unquoted, with the 1-based column each starts at.
    static func fields(_ line: Substring) -> [(text: String, column: Int)] {
        var result: [(String, Int)] = []
        var column = 1
        for part in line.split(separator: ",", omittingEmptySubsequences: false) {
            let leading = part.prefix { $0 == " " || $0 == "\t" }.count
            var text = part.trimmingCharacters(in: .whitespaces)
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
                text = String(text.dropFirst().dropLast())
            }
            result.append((text, column + leading))
            column += part.count + 1
        }
        return result
    }
}
