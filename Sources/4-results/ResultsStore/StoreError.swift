import GRDB

/// A failure of the results store: which database, what was being done, and SQLite's own words.
///
/// GRDB's error types are deliberately not exposed, so callers depend on this module only.
public struct StoreError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The database file the operation was on.
    public var path: String
    /// What the store was doing, e.g. `completing run 3`.
    public var operation: String
    /// The underlying message (SQLite's, or the store's own validation message).
    public var message: String

    /// Creates a store error.
    public init(path: String, operation: String, message: String) {
        self.path = path
        self.operation = operation
        self.message = message
    }

    /// `results store <path>: <operation>: <message>`.
    public var description: String {
        "results store \(path): \(operation): \(message)"
    }
}

extension StoreError {
    /// Wraps any error thrown while doing `operation`.
    ///
    /// `DatabaseError.description` embeds the full SQL, which for a batched insert is kilobytes of
    /// placeholders; the SQLite message and code are what a user can act on.
    init(path: String, operation: String, underlying: any Error) {
        switch underlying {
        case let error as StoreError:
            self = error
        case let error as DatabaseError:
            let text = error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
            self.init(
                path: path, operation: operation,
                message: "\(text) (SQLite code \(error.extendedResultCode.rawValue))")
        default:
            self.init(path: path, operation: operation, message: String(describing: underlying))
        }
    }
}
