/// What a replica says of its LoRA adapters, as vLLM's `vllm:lora_requests_info` gauge does with its labels
/// `running_lora_adapters`, `waiting_lora_adapters` and `max_lora`.
///
/// Adapters are named by their index in the run's adapter table (`adapter-07` is an index into it), so a scrape
/// carries small sorted arrays, not strings. A replica without LoRA reports none of this (nil in its gauges).
public struct LoRARequestsInfo: Sendable, Equatable {
    /// Adapters with at least one request running (prefilling or decoding), ascending.
    public var running: [Int32]
    /// Adapters with at least one request waiting, ascending.
    public var waiting: [Int32]
    /// `max_lora`: the most adapters the replica holds on its GPUs at once (vLLM's `--max-loras`).
    public var maxLora: Int

    public init(running: [Int32] = [], waiting: [Int32] = [], maxLora: Int) {
        self.running = running
        self.waiting = waiting
        self.maxLora = maxLora
    }

    /// Adapters either running or waiting, each once.
    public var activeOrWaitingCount: Int {
        var count = running.count
        for adapter in waiting where !running.contains(adapter) { count += 1 }
        return count
    }
}

/// Where a request's adapter stands on one replica, read from its `vllm:lora_requests_info`: what the
/// `lora-affinity-scorer` scores. The router fills it per request, so a replica's view stays a plain value (its
/// copies cost no reference counting on the routing path).
public enum LoRAAffinity: UInt8, Sendable {
    /// The request names no adapter.
    case baseModel
    /// The adapter has requests running there.
    case running
    /// The replica has room for one more adapter (running and waiting adapters, each once, under `max_lora`).
    case room
    /// The adapter only has requests waiting there, and there is no room.
    case waitingOnly
    /// None of these, or a replica without LoRA.
    case none

    /// The standing of `adapter` (-1: the base model) on a replica that reported `info` (nil: no LoRA).
    public init(adapter: Int32, _ info: LoRARequestsInfo?) {
        guard adapter >= 0 else {
            self = .baseModel
            return
        }
        guard let info else {
            self = .none
            return
        }
        if info.running.contains(adapter) {
            self = .running
        } else if info.activeOrWaitingCount < info.maxLora {
            self = .room
        } else if info.waiting.contains(adapter) {
            self = .waitingOnly
        } else {
            self = .none
        }
    }
}
