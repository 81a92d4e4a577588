public import Foundation

/// Fresh folders under the system's temporary directory, one per test, so tests running in parallel never share
/// files.
public enum TemporaryDirectory {
    /// Creates and returns a new, empty folder named `<prefix>-<UUID>`; the caller removes it.
    public static func make(_ prefix: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Runs `body` with a new folder (see `make(_:)`), removed afterwards whatever `body` does.
    public static func with<T>(_ prefix: String, _ body: (URL) throws -> T) throws -> T {
        let folder = try make(prefix)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try body(folder)
    }

    /// A new file holding `text`, named `<prefix>-<UUID><suffix>` in the temporary directory; returns its path.
    public static func file(_ text: String, prefix: String, suffix: String = "") throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(prefix)-\(UUID().uuidString)\(suffix)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

/// The repository's checkout, for tests that read its scenarios, traces and docs.
public enum Repository {
    /// The repository root, found from this file's path (Tests/TestSupport/TemporaryDirectory.swift).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
