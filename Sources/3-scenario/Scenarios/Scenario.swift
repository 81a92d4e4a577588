@_exported public import Fleet
import SimKernel

/// A loaded, validated scenario: the fleet to simulate, the policies to compare, and where it came from.
public struct Scenario: Sendable {
    /// The scenario's name (from the file, or the file's base name).
    public var name: String
    /// Free text describing the scenario; empty when absent.
    public var description: String
    /// The base seed; replication `r` of a run derives its own seed from it.
    public var seed: UInt64
    /// How many independent replications each policy runs.
    public var replications: Int
    /// Registered routing policy names to compare, in the file's order.
    public var policies: [String]
    /// Pools, workloads and the run's time frame.
    public var fleet: FleetSpec
    /// The exact text of the file, kept so that results can be traced to it.
    public var sourceText: String
    /// The scenario's identity: lowercase hex SHA-256 of `sourceText`'s UTF-8 bytes when it names no files,
    /// otherwise of the text and the files together (``identity(text:files:)``).
    public var sha256: String
    /// The file path as given to the loader.
    public var file: String
    /// The files the scenario names (traces, data files, model configs, timing profiles), in the order the loader
    /// first read them, each once.
    public var namedFiles: [NamedFile]

    /// Creates a scenario from its parts; ``ScenarioLoader`` is the usual way to get one.
    public init(
        name: String, description: String, seed: UInt64, replications: Int, policies: [String],
        fleet: FleetSpec, sourceText: String, sha256: String, file: String, namedFiles: [NamedFile] = []
    ) {
        self.name = name
        self.description = description
        self.seed = seed
        self.replications = replications
        self.policies = policies
        self.fleet = fleet
        self.sourceText = sourceText
        self.sha256 = sha256
        self.file = file
        self.namedFiles = namedFiles
    }

    /// The identity of a scenario whose text is `text` and which names `files`, as lowercase hex SHA-256.
    ///
    /// With no files it is the SHA-256 of the text's UTF-8 bytes, so a scenario that names no files keeps the
    /// identity it had before files were counted. Otherwise it is the SHA-256 of this UTF-8 text:
    ///
    ///     scenario <SHA-256 of the text>\n
    ///     file <SHA-256 of the file's bytes> <UTF-8 byte count of its path> <its path as written>\n
    ///
    /// with one `file` line per file, in order. The byte count keeps a path holding a newline from reading as
    /// another line. Paths are as written, not resolved, so the identity does not depend on where the scenario
    /// was run from. docs/results-schema.md describes the same construction.
    public static func identity(text: String, files: [NamedFile]) -> String {
        guard !files.isEmpty else { return SHA256.hex(of: text) }
        var canonical = "scenario \(SHA256.hex(of: text))\n"
        for file in files {
            canonical += "file \(file.sha256) \(file.path.utf8.count) \(file.path)\n"
        }
        return SHA256.hex(of: canonical)
    }
}

/// A file a scenario names (a trace, an empirical distribution's data, a model's `config.json`, a timing profile),
/// as the loader read it.
public struct NamedFile: Sendable, Hashable {
    /// The path as the scenario writes it, like `traces/conv.csv`.
    public var path: String
    /// Where the loader found it: `path` resolved against the scenario's directory.
    public var resolvedPath: String
    /// Lowercase hex SHA-256 of its bytes.
    public var sha256: String

    /// Creates the record of a file read.
    public init(path: String, resolvedPath: String, sha256: String) {
        self.path = path
        self.resolvedPath = resolvedPath
        self.sha256 = sha256
    }
}
