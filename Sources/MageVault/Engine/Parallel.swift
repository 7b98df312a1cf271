import CThreadPlacement
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Independent pieces of work shared between this thread and one helper on another CPU:
/// `list` opens a record per name, each opening (a keystream, Poly1305, two BLAKE2b) needing
/// nothing from any other, and that is most of what a `list` costs; and a reader opens its
/// environments' keys while it reads the log (`alongside`).
///
/// The work is cut into chunks that either thread takes, one at a time, from a shared
/// counter: this thread starts at once and the helper joins in as soon as it runs, so a
/// helper that starts late or shares a busy CPU only leaves more chunks to this thread; the
/// whole never takes much longer than doing it alone (the cost of starting a thread, tens
/// of microseconds).
enum Parallel {
    /// Whether a helper may run elsewhere: the process may use more than one CPU.
    static let helperCanHelp = mgv_usable_cpus() > 1

    /// Calls `body` with consecutive ranges of `0..<count`, `chunk` indices each (the last
    /// shorter), every index exactly once, on this thread and, when `helper` is true and a
    /// helper can run on another CPU, on a helper thread too; `body` is also told which
    /// thread calls it (0 this one, 1 the helper), for what each keeps of its own. Returns
    /// when every range is done.
    ///
    /// `body` runs on two threads at once: a call may write only what belongs to its range
    /// or its thread, and read only what no call writes. What it wrote is seen by the caller
    /// once this returns.
    static func forEachChunk(_ count: Int, chunk: Int, helper: Bool, _ body: (Range<Int>, _ thread: Int) -> Void) {
        precondition(chunk > 0, "chunks hold at least one index")
        guard helper, helperCanHelp, count > chunk else {
            var start = 0
            while start < count {
                body(start..<min(count, start + chunk), 0)
                start += chunk
            }
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = Work(count: count, chunk: chunk, body: body)
            let helper = startHelper(work)
            work.run(thread: 0)
            if let helper { finish(helper) }
        }
    }

    /// Runs `other` on a helper thread started on another CPU while this thread runs `mine`,
    /// and returns when both are done (`other` runs here after `mine` when no helper can).
    /// What `other` wrote is seen by the caller once this returns; the two must not touch
    /// anything in common.
    static func alongside(_ other: () -> Void, _ mine: () -> Void) {
        guard helperCanHelp else {
            mine()
            other()
            return
        }
        withoutActuallyEscaping(other) { other in
            let work = Work(count: 1, chunk: 1) { _, _ in other() }
            let helper = startHelper(work)
            mine()
            if let helper { finish(helper) } else { other() }
        }
    }

    /// A helper thread taking `work`'s chunks, started on another CPU than this one; nil when
    /// the system starts no thread (then this thread does all of it).
    private static func startHelper(_ work: Work) -> (thread: pthread_t, work: Unmanaged<Work>)? {
        let context = Unmanaged.passRetained(work)
        var thread = pthread_t()
        let status = mgv_thread_start_elsewhere(&thread, { context in
            Unmanaged<Work>.fromOpaque(context!).takeUnretainedValue().run(thread: 1)
            return nil
        }, context.toOpaque())
        guard status == 0 else {
            context.release()
            return nil
        }
        return (thread, context)
    }

    /// Waits for a helper to finish: what it wrote is seen by this thread from here on.
    private static func finish(_ helper: (thread: pthread_t, work: Unmanaged<Work>)) {
        pthread_join(helper.thread, nil)
        helper.work.release()
    }

    /// The chunks left and what to do with each.
    private final class Work: Sendable {
        let count: Int
        let chunk: Int
        let next = Atomic<Int>(0)
        // Called on both threads; `forEachChunk`'s contract keeps their calls apart.
        nonisolated(unsafe) let body: (Range<Int>, Int) -> Void

        init(count: Int, chunk: Int, body: @escaping (Range<Int>, Int) -> Void) {
            self.count = count
            self.chunk = chunk
            self.body = body
        }

        /// Takes chunks until none is left.
        func run(thread: Int) {
            while true {
                let start = next.add(chunk, ordering: .relaxed).oldValue
                guard start < count else { return }
                body(start..<min(count, start + chunk), thread)
            }
        }
    }
}
