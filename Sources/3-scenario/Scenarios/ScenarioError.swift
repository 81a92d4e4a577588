/// A scenario file that could not be loaded, located at the offending node.
///
/// Its ``description`` is the compiler-style line editors and terminals understand:
/// `FILE:LINE:COLUMN: error: at PATH: MESSAGE`.
public struct ScenarioError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, coarsely: the CLI maps it to an exit status (`fileNotFound` is 66, the others 65).
    public enum Kind: Sendable, Equatable {
        /// No file at the path.
        case fileNotFound
        /// The file exists but could not be read as UTF-8 text.
        case unreadable
        /// The text is not a valid scenario.
        case invalid
    }

    /// What went wrong, coarsely.
    public var kind: Kind
    /// The file, as the caller named it.
    public var file: String
    /// 1-based line, when the error has a position.
    public var line: Int?
    /// 1-based column (in Unicode scalars, as libyaml counts), when the error has a position.
    public var column: Int?
    /// The field's path, such as `pools[0].replicas`; empty for the document as a whole.
    public var path: String
    /// What was expected and what was found.
    public var message: String

    /// Creates an error; `line` and `column` are 1-based.
    public init(kind: Kind, file: String, line: Int?, column: Int?, path: String, message: String) {
        self.kind = kind
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `FILE:LINE:COLUMN: error: at PATH: MESSAGE`, leaving out the parts that are unknown or empty.
    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        let at = path.isEmpty ? "" : "at \(path): "
        return "\(location): error: \(at)\(message)"
    }
}
