/// The LoRA adapters of one GPU replica: `max-loras` slots on the GPUs, what each holds, and how many of the
/// replica's sequences use each adapter.
///
/// The engine asks it whether a sequence's adapter is loaded (only then may the sequence join a batch, so a batch
/// never has more distinct adapters than slots: vLLM's scheduler skips a waiting request whose adapter would
/// exceed `max_loras`). Loads are copies from host memory, one at a time (they share the host link), each into a
/// free slot or over the least recently used adapter that no running sequence uses. An adapter just loaded is not
/// evicted before a sequence has used it, while sequences still wait for it, so two adapters cannot evict each
/// other without either being used.
///
/// Adapters are indices into the run's adapter table; per-adapter counts are arrays by index, grown on first use.
struct LoRAAdapterSlots {
    let settings: LoRASettings

    private struct Slot {
        var adapter: Int32 = -1
        var loaded = false
        /// When an admitted sequence last used it (the engine's admission counter), for LRU eviction.
        var lastUsed: Int64 = -1
        var usedSinceLoad = false
    }

    private var slots: [Slot]
    /// By adapter: its slot, or -1.
    private var slotOfAdapter: [Int32] = []
    /// By adapter: sequences running (prefilling or decoding), and sequences waiting.
    private var running: [Int32] = []
    private var waiting: [Int32] = []
    /// The slot being loaded, or -1.
    private(set) var loadingSlot = -1
    /// Loads started so far; the load in flight, if any, is number `loadsStarted − 1` (its timer's token).
    private(set) var loadsStarted: Int64 = 0
    private var useClock: Int64 = 0

    init(settings: LoRASettings) {
        self.settings = settings
        self.slots = Array(repeating: Slot(), count: settings.maxLoras)
    }

    // MARK: Sequences

    /// A sequence of `adapter` joined the waiting queue (new, or preempted back to it).
    mutating func joinedWaiting(_ adapter: Int32) {
        grow(to: adapter)
        waiting[Int(adapter)] += 1
    }

    /// A waiting sequence of `adapter` left the queue without running (aborted).
    mutating func leftWaiting(_ adapter: Int32) { waiting[Int(adapter)] -= 1 }

    /// A waiting sequence of `adapter` was admitted to the batch; its adapter is loaded.
    mutating func admitted(_ adapter: Int32) {
        let index = Int(adapter)
        waiting[index] -= 1
        running[index] += 1
        let slot = Int(slotOfAdapter[index])
        useClock += 1
        slots[slot].lastUsed = useClock
        slots[slot].usedSinceLoad = true
    }

    /// A running sequence of `adapter` stopped running (completed, aborted or preempted).
    mutating func stoppedRunning(_ adapter: Int32) { running[Int(adapter)] -= 1 }

    /// Whether `adapter` is on the GPUs and ready.
    func isLoaded(_ adapter: Int32) -> Bool {
        let index = Int(adapter)
        return index < slotOfAdapter.count && slotOfAdapter[index] >= 0 && slots[Int(slotOfAdapter[index])].loaded
    }

    /// Whether `adapter` is loaded or being loaded.
    func isResident(_ adapter: Int32) -> Bool {
        let index = Int(adapter)
        return index < slotOfAdapter.count && slotOfAdapter[index] >= 0
    }

    // MARK: Loads

    var loadInFlight: Bool { loadingSlot >= 0 }

    /// The slot a new adapter would go to: a free one, else the least recently used loaded adapter that no
    /// sequence runs with (and that, if it has not been used since it was loaded, nobody waits for). Nil if none.
    func slotForLoad() -> Int? {
        var best: Int?
        for index in slots.indices {
            let slot = slots[index]
            if slot.adapter < 0 { return index }
            let adapter = Int(slot.adapter)
            guard slot.loaded, running[adapter] == 0, slot.usedSinceLoad || waiting[adapter] == 0 else { continue }
            if best == nil || slot.lastUsed < slots[best!].lastUsed { best = index }
        }
        return best
    }

    /// Starts loading `adapter` into `slot` (from ``slotForLoad()``), evicting what it held.
    mutating func startLoad(_ adapter: Int32, into slot: Int) {
        precondition(loadingSlot < 0 && !isResident(adapter), "one load at a time, of an adapter not held")
        grow(to: adapter)
        if slots[slot].adapter >= 0 { slotOfAdapter[Int(slots[slot].adapter)] = -1 }
        slots[slot] = Slot(adapter: adapter)
        slotOfAdapter[Int(adapter)] = Int32(slot)
        loadingSlot = slot
        loadsStarted += 1
    }

    /// The load in flight is done.
    mutating func finishLoad() {
        slots[loadingSlot].loaded = true
        loadingSlot = -1
    }

    /// The GPUs restarted: no adapter is held, and a load in flight is forgotten.
    mutating func unloadAll() {
        for index in slots.indices where slots[index].adapter >= 0 { slotOfAdapter[Int(slots[index].adapter)] = -1 }
        slots = Array(repeating: Slot(), count: settings.maxLoras)
        loadingSlot = -1
    }

    // MARK: Steps and gauges

    /// Distinct adapters with running sequences (each is in the step being built).
    var distinctRunning: Int {
        var count = 0
        for slot in slots where slot.adapter >= 0 && running[Int(slot.adapter)] > 0 { count += 1 }
        return count
    }

    /// `vllm:lora_requests_info`: adapters running, adapters waiting, and `max_lora`.
    var info: LoRARequestsInfo {
        var info = LoRARequestsInfo(maxLora: settings.maxLoras)
        for adapter in running.indices where running[adapter] > 0 { info.running.append(Int32(adapter)) }
        for adapter in waiting.indices where waiting[adapter] > 0 { info.waiting.append(Int32(adapter)) }
        return info
    }

    /// Adapters held, loaded or loading (for tests and invariant checks), by slot.
    var held: [Int32] { slots.map(\.adapter) }

    /// Checks the counts against the engine's recount (`running` and `waiting` by adapter); nil if they agree.
    func violation(running recountRunning: [Int32: Int], waiting recountWaiting: [Int32: Int]) -> String? {
        for adapter in running.indices {
            let key = Int32(adapter)
            if Int(running[adapter]) != recountRunning[key, default: 0] {
                return "adapter \(adapter): \(running[adapter]) running, recount \(recountRunning[key, default: 0])"
            }
            if Int(waiting[adapter]) != recountWaiting[key, default: 0] {
                return "adapter \(adapter): \(waiting[adapter]) waiting, recount \(recountWaiting[key, default: 0])"
            }
            if running[adapter] > 0 && !isLoaded(key) { return "adapter \(adapter) runs but is not loaded" }
        }
        return nil
    }

    private mutating func grow(to adapter: Int32) {
        precondition(adapter >= 0, "the base model has no adapter")
        let needed = Int(adapter) + 1
        guard needed > running.count else { return }
        let extra = needed - running.count
        running.append(contentsOf: repeatElement(0, count: extra))
        waiting.append(contentsOf: repeatElement(0, count: extra))
        slotOfAdapter.append(contentsOf: repeatElement(-1, count: extra))
    }
}
