import Foundation
import Scenarios
import TestSupport
import Testing

/// Shared helpers: the repository root, fixtures, and a known-good scenario text to vary.
enum Support {
    /// The repository root.
    static let repositoryRoot = Repository.root

    /// A fixture's URL in the test bundle.
    static func fixture(_ name: String) throws -> URL {
        try #require(
            Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"),
            "missing fixture \(name)")
    }

    /// A fixture's text.
    static func fixtureText(_ name: String) throws -> String {
        try String(contentsOf: fixture(name), encoding: .utf8)
    }

    /// A small valid scenario; `replacing` swaps one of its lines (matched by exact text) for others.
    static func scenario(_ edits: [String: String] = [:], appending extra: String = "") -> String {
        var text = """
            horizon: 10m
            warmup: 1m
            pools:
              - name: gpu
                replicas: 4
                station:
                  servers: 1
                  service: {dist: exponential, mean: 1s}
            workloads:
              - name: chat
                rate: 20/s

            """
        for (old, new) in edits {
            precondition(text.contains(old), "template has no \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text + extra
    }

    /// The error `text` raises, or a test failure if it loads.
    static func error(
        _ text: String, file: String = "t.yaml",
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ScenarioError? {
        do {
            _ = try ScenarioLoader.parse(text, file: file)
            Issue.record("expected an error, but the scenario loaded:\n\(text)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }
}
