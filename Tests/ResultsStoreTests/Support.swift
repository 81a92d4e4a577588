import Foundation
import TestSupport

/// Runs `body` with the path of a database file in a fresh temporary directory, removed afterwards.
func withTemporaryDatabase<T>(_ body: (String) throws -> T) throws -> T {
    // A nested path checks that the store creates missing parent directories.
    try TemporaryDirectory.with("ResultsStoreTests") {
        try body($0.appendingPathComponent("nested/results.sqlite").path)
    }
}
