import Foundation
import SimKernel
import TestSupport
import Testing

@testable import Scenarios

/// A scenario's identity (`sha256`) covers the files it names: the loader records each one it reads, in order,
/// once, and the identity of a scenario that names none is its text's SHA-256, as it always was.
@Suite struct ScenarioIdentityTests {
    /// A scenario naming every kind of file: a model config, a timing profile, a trace, and data files
    /// (`lengths.txt` twice).
    static let text = """
        horizon: 1m
        pools:
          - name: gpu
            replicas: 1
            gpu: {hardware: H100, model: {config: models/m.json}, timing: {profile: profiles/p.yaml}}
          - name: cpu
            replicas: 2
            station: {servers: 1, service: {dist: exponential, mean: 1s}}
        workloads:
          - name: replay
            pool: cpu
            trace: {format: csv, path: trace.csv, columns: {timestamp: t, input-tokens: i, output-tokens: o}}
          - name: chat
            pool: gpu
            rate: 1/s
            input-tokens: {dist: empirical, file: lengths.txt}
            output-tokens: {dist: empirical, file: outputs.txt}
          - name: batch
            pool: gpu
            rate: 1/s
            input-tokens: {dist: empirical, file: lengths.txt}

        """

    static let files = [
        "trace.csv": "t,i,o\n0.5,10,2\n1.25,20,3\n2,30,4\n",
        "lengths.txt": "100\n200\n300\n",
        "outputs.txt": "7\n8\n",
        // For the model read from models/m.json, which is named `m`.
        "profiles/p.yaml": "profile: 1\nsetup: {hardware: H100-80GB, model: m}\n"
            + "parameters: {compute-efficiency: 0.6}\n",
    ]

    /// A folder holding the scenario's files, the model config copied from the fixtures.
    static func folder() throws -> URL {
        let folder = try TemporaryDirectory.make("identity")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("profiles"), withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let models = folder.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: try Support.fixture("models").appendingPathComponent("Llama-3.1-8B.json"),
            to: models.appendingPathComponent("m.json"))
        return folder
    }

    static func load(_ folder: URL, text: String = text) throws -> Scenario {
        try ScenarioLoader.parse(text, file: folder.appendingPathComponent("s.yaml").path)
    }

    static func sha256(of file: URL) throws -> String { SHA256.hex(of: try Data(contentsOf: file)) }

    @Test("a scenario that names no files keeps its text's SHA-256 as its identity")
    func fileFreeIdentityIsTheTextsHash() throws {
        let text = """
            horizon: 1m
            pools:
              - {name: p, replicas: 1, station: {servers: 1, service: {dist: exponential, mean: 1s}}}
            workloads:
              - {name: w, rate: 1/s}

            """
        let scenario = try ScenarioLoader.parse(text, file: "t.yaml")
        #expect(scenario.namedFiles == [])
        #expect(scenario.sha256 == SHA256.hex(of: text))
        // Pinned: runs stored before files were counted have this identity, and `compare` groups by it.
        let quickstart = Support.repositoryRoot.appendingPathComponent("scenarios/quickstart.yaml")
        let shipped = try ScenarioLoader.load(path: quickstart.path)
        let bytes = try Self.sha256(of: quickstart)
        #expect(shipped.namedFiles == [] && shipped.sha256 == bytes)
        #expect(scenario.sha256 == "6f364e72449be5a780870702519b4d4638b0b2c9255de6d29fe2e59f3e47b207")
    }

    @Test("the named files are recorded in the order first read, once each, with their bytes' SHA-256")
    func filesAreRecordedInOrderAndOnce() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let scenario = try Self.load(folder)
        let expected = try ["models/m.json", "profiles/p.yaml", "trace.csv", "lengths.txt", "outputs.txt"].map { path in
            let url = folder.appendingPathComponent(path)
            return NamedFile(path: path, resolvedPath: url.path, sha256: try Self.sha256(of: url))
        }
        #expect(scenario.namedFiles == expected)
        // The documented construction, spelled out.
        let canonical =
            "scenario \(SHA256.hex(of: Self.text))\n"
            + expected.map { "file \($0.sha256) \($0.path.utf8.count) \($0.path)\n" }.joined()
        #expect(scenario.sha256 == SHA256.hex(of: canonical))
        #expect(scenario.sha256 == Scenario.identity(text: Self.text, files: expected))
        // Loading again gives the same files and identity.
        let again = try Self.load(folder)
        #expect(again.namedFiles == scenario.namedFiles && again.sha256 == scenario.sha256)
    }

    @Test(
        "the identity changes when a named file's bytes change, the text being the same, and comes back with them",
        arguments: ["trace.csv", "lengths.txt", "models/m.json", "profiles/p.yaml"])
    func editingANamedFileChangesTheIdentity(_ name: String) throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let before = try Self.load(folder)
        let url = folder.appendingPathComponent(name)
        let original = try Data(contentsOf: url)
        // A byte the loader ignores (a trailing newline or space) still changes the file.
        try (original + Data(name.hasSuffix(".json") ? " ".utf8 : "\n".utf8)).write(to: url)
        let after = try Self.load(folder)
        #expect(after.sourceText == before.sourceText)
        #expect(after.sha256 != before.sha256)
        let changed = zip(before.namedFiles, after.namedFiles).filter { $0.sha256 != $1.sha256 }.map(\.0.path)
        #expect(changed == [name])
        try original.write(to: url)
        #expect(try Self.load(folder).sha256 == before.sha256)
    }

    @Test("a missing data file is a missing file, located at its path in the scenario")
    func aMissingDataFileIsLocated() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("outputs.txt"))
        let file = folder.appendingPathComponent("s.yaml").path
        let error = Support.error(Self.text, file: file)
        #expect(error?.kind == .fileNotFound)
        #expect(
            error?.description
                == "\(file):17:44: error: at workloads[1].output-tokens.file: no data file `outputs.txt` "
                + "(looked for \(folder.appendingPathComponent("outputs.txt").path))")
    }
}
