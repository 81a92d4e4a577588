import Scenarios
import SimKernel
import Testing

/// Random damage to a valid file never crashes the loader: each mutant loads or throws a located ScenarioError.
///
/// A crash (a trap, a failed precondition, a stack overflow) ends the whole test process, which is the point.
@Suite struct RobustnessTests {
    /// Characters that matter to YAML or to the loader's grammars, plus some that should never appear.
    static let alphabet: [Character] = [
        ":", "-", " ", "\t", "\n", "\r", "{", "}", "[", "]", ",", "0", "9", ".", "#", "&", "*", "!", "|", ">", "'",
        "\"", "%", "@", "`", "?", "e", "s", "m", "/", "_", "\u{0}", "\u{7}", "é", "\u{FEFF}", "\u{2028}", "🙂",
    ]

    static func mutate(_ text: String, with random: RandomStream) -> String {
        var characters = Array(text)
        for _ in 0...random.integer(below: 4) where !characters.isEmpty {
            let at = random.integer(below: characters.count)
            switch random.integer(below: 6) {
            case 0: characters.remove(at: at)
            case 1: characters.insert(characters[at], at: at)
            case 2: characters[at] = alphabet[random.integer(below: alphabet.count)]
            case 3: characters.insert(alphabet[random.integer(below: alphabet.count)], at: at)
            case 4: characters.removeSubrange(at...)
            default:
                var lines = String(characters).split(separator: "\n", omittingEmptySubsequences: false)
                let (a, b) = (random.integer(below: lines.count), random.integer(below: lines.count))
                lines.swapAt(a, b)
                characters = Array(lines.joined(separator: "\n"))
            }
        }
        return String(characters)
    }

    @Test func mutantsNeverCrash() throws {
        let original = try Support.fixtureText("full.yaml")
        var loaded = 0
        var refused = 0
        for seed in 0..<2000 {
            let random = RandomStream(name: "scenario-mutation", runSeed: UInt64(seed))
            let mutant = Self.mutate(original, with: random)
            do {
                _ = try ScenarioLoader.parse(mutant, file: "mutant.yaml")
                loaded += 1
            } catch {
                refused += 1
                #expect(error.file == "mutant.yaml")
                #expect(error.line != nil && error.column != nil, "seed \(seed): \(error)")
                #expect(error.description.hasPrefix("mutant.yaml:"))
            }
        }
        // Both outcomes occur, or the mutations are too weak (or too strong) to test anything.
        #expect(loaded > 50 && refused > 500, "loaded \(loaded), refused \(refused)")
    }

    /// Deep nesting is refused by libyaml (its limit is 1000 levels) or by the loader, without exhausting the stack.
    @Test func deepNesting() {
        for depth in [500, 999, 5000] {
            let flow = "horizon: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
            #expect(Support.error(flow)?.path == (depth < 1000 ? "horizon" : ""), "depth \(depth)")
        }
    }

    /// Anchors and aliases work (a shared distribution); merge keys are not supported and say so by name.
    @Test func anchorsAndAliases() throws {
        let shared = Support.scenario(
            ["{dist: exponential, mean: 1s}": "&service {dist: exponential, mean: 1s}"],
            appending: "  - {name: cpu, replicas: 1, station: {servers: 1, service: *service}}\n")
        let reordered =
            shared.replacingOccurrences(of: "workloads:\n  - name: chat\n    rate: 20/s\n", with: "")
            + "workloads:\n  - {name: chat, rate: 20/s, pool: gpu}\n"
        let scenario = try ScenarioLoader.parse(reordered, file: "t.yaml")
        #expect(scenario.fleet.pools[0].replica == scenario.fleet.pools[1].replica)
        let merge = Support.error(Support.scenario(["    rate: 20/s\n": "    <<: {rate: 20/s}\n"]))
        #expect(merge?.path == "workloads[0].<<")
    }
}
