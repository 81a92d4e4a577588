import Analysis
import ArgumentParser
import Fleet

/// `infermesh list policies|replica-kinds|arrival-processes|hardware|models|plugins|metrics`: print a registry or
/// catalog.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract:
            "Print what is registered: routing policies, replica kinds, arrival processes, GPUs, models, "
            + "endpoint-picker plugins, and summary metrics.")

    enum Registry: String, ExpressibleByArgument, CaseIterable {
        case policies
        case replicaKinds = "replica-kinds"
        case arrivalProcesses = "arrival-processes"
        case hardware
        case models
        case plugins
        case metrics
    }

    @Argument(help: "What to list: \(Registry.allCases.map(\.rawValue).joined(separator: ", ")).")
    var registry: Registry

    func run() throws { CommandIO.standard.out(Self.render(registry)) }

    /// The listing of `registry`, one entry a line.
    static func render(_ registry: Registry) -> String {
        switch registry {
        case .policies:
            let width = PolicyRegistry.names.map(\.count).max() ?? 0
            return PolicyRegistry.entries.map {
                $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary + "\n"
            }.joined()
        case .replicaKinds:
            return ReplicaSpec.kindNames.map { $0 + "\n" }.joined()
        case .arrivalProcesses:
            return ArrivalProcess.names.map { $0 + "\n" }.joined()
        case .hardware:
            return table(
                [
                    "name", "memory GiB", "BF16 TFLOP/s", "HBM TB/s", "interconnect GB/s", "FP8 TFLOP/s",
                    "INT8 TOP/s",
                ],
                GPUSpec.builtIns.map { gpu in
                    [
                        gpu.name, String(gpu.memoryBytes >> 30),
                        String(format: "%.0f", gpu.denseBF16FLOPsPerSecond / 1e12),
                        String(format: "%.2f", gpu.memoryBandwidthBytesPerSecond / 1e12),
                        String(format: "%.0f", gpu.interconnectBytesPerSecond / 1e9)
                            + (gpu.meshLinks.map { " (\($0)-link mesh)" } ?? ""),
                        gpu.denseFP8FLOPsPerSecond.map { String(format: "%.0f", $0 / 1e12) } ?? "none",
                        gpu.denseINT8OpsPerSecond.map { String(format: "%.0f", $0 / 1e12) } ?? "none",
                    ]
                })
        case .plugins:
            return table(
                ["type", "kind", "what it does"], PluginRegistry.types.map { [$0.name, $0.kind.rawValue, $0.summary] })
        case .metrics:
            return table(
                ["metric", "unit", "reported"],
                SummaryMetrics.expanded.map { [$0.name, $0.metric.unit, $0.metric.scope.reported] })
        case .models:
            let fitted = FittedProfileTiming.available
            return table(
                [
                    "name", "params B", "active B", "layers", "KV bytes/token", "attention", "experts", "checkpoint",
                    "fitted profiles (GPU/TP)",
                ],
                LLMSpec.builtIns.map { model in
                    let profiles = fitted.filter { $0.model == model.name }.map { "\($0.gpu)/\($0.tensorParallelSize)" }
                    return [
                        model.name, String(format: "%.1f", Double(model.parameters) / 1e9),
                        String(format: "%.1f", Double(model.activeParameters) / 1e9), String(model.layers),
                        String(model.kvBytesPerToken), attention(model),
                        model.moe.map { moe in
                            "\(moe.expertsPerToken)/\(moe.experts)"
                                + (moe.sharedExperts > 0 ? "+\(moe.sharedExperts) shared" : "")
                        } ?? "dense",
                        model.checkpointQuantization.map { $0.method.rawValue + ($0.expertsOnly ? " experts" : "") }
                            ?? "bf16",
                        profiles.isEmpty ? "none (roofline only)" : profiles.joined(separator: " "),
                    ]
                })
        }
    }

    /// The attention kind in a few characters: `MHA`, `GQA 32/8`, `MLA 512+64`, with `, sliding N on L` for a window.
    static func attention(_ model: LLMSpec) -> String {
        var kind: String
        if let mla = model.latentAttention {
            kind = "MLA \(mla.kvLoraRank)+\(mla.qkRopeHeadDim)"
        } else if model.kvHeads == model.attentionHeads {
            kind = "MHA \(model.attentionHeads)"
        } else {
            kind = "GQA \(model.attentionHeads)/\(model.kvHeads)"
        }
        if let window = model.slidingWindow { kind += ", window \(window.tokens) on \(window.layers)" }
        return kind
    }

    /// Left-aligned columns, two spaces apart.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }.joined() + "\n"
        }.joined()
    }
}
