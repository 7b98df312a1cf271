import CSodium
import Synchronization

/// Reuses `sodium_malloc` regions of a few sizes. Each fresh region costs several system
/// calls (mmap, mprotect for the guard pages, mlock); a `get` or a `list` needs a few short
/// buffers per record, so regions are wiped on release and kept for the next use instead.
/// A kept region stays locked and guarded; it holds nothing once released.
///
/// The small sizes (keys, a name being opened) are carved out of slabs: one `sodium_malloc`
/// region of a page, locked, kept out of core dumps and between guard pages, holds up to 63
/// of them (3 of the largest), as OpenSSL's secure heap holds every secure allocation in
/// one guarded arena. A command's few keys then cost one region's system calls instead of
/// one each (an environment's keys alone were five). A slab's slots are wiped on release
/// and reused, never unmapped.
final class SecureAllocator: Sendable {
    static let shared = SecureAllocator()
    static let sizeClasses = [64, 256, 1024, 4096, 16384, 65536]
    static let keptPerClass = 32
    /// Size classes at most this large are slab slots (a name being opened takes 1024).
    static let largestSlabSlot = 1024
    /// A slab's usable bytes: a page less libsodium's canary, so the region is one page.
    static let slabBytes = 4096 - 64

    private struct State {
        /// Free regions (or slab slots) per size class. Addresses as integers: raw pointers
        /// are not Sendable, and only this allocator touches them.
        var free: [[UInt]] = Array(repeating: [], count: SecureAllocator.sizeClasses.count)
        /// The slab being carved and how much of it is used.
        var slab: UInt = 0
        var slabUsed = SecureAllocator.slabBytes
    }

    private let state = Mutex(State())

    /// A region of at least `count` bytes and its capacity.
    func allocate(_ count: Int) -> (UnsafeMutableRawPointer, capacity: Int) {
        guard let sizeClass = Self.sizeClasses.firstIndex(where: { $0 >= count }) else {
            guard let raw = sodium_malloc(count) else { fatalError("sodium_malloc(\(count)) failed: out of memory") }
            return (raw, count)
        }
        let capacity = Self.sizeClasses[sizeClass]
        let reused = state.withLock { state -> UInt? in
            if let address = state.free[sizeClass].popLast() { return address }
            guard capacity <= Self.largestSlabSlot else { return nil }
            if state.slabUsed + capacity > Self.slabBytes {
                guard let slab = sodium_malloc(Self.slabBytes) else { fatalError("sodium_malloc(\(Self.slabBytes)) failed: out of memory") }
                state.slab = UInt(bitPattern: slab)
                state.slabUsed = 0
            }
            defer { state.slabUsed += capacity }
            return state.slab + UInt(state.slabUsed)
        }
        if let reused, let pointer = UnsafeMutableRawPointer(bitPattern: reused) { return (pointer, capacity) }
        guard let raw = sodium_malloc(capacity) else { fatalError("sodium_malloc(\(capacity)) failed: out of memory") }
        return (raw, capacity)
    }

    /// Wipes a region and keeps it for reuse (a slab slot always), or frees it.
    func release(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
        sodium_memzero(pointer, capacity)
        let address = UInt(bitPattern: pointer)
        if let sizeClass = Self.sizeClasses.firstIndex(of: capacity),
            state.withLock({ state in
                guard capacity <= Self.largestSlabSlot || state.free[sizeClass].count < Self.keptPerClass else { return false }
                state.free[sizeClass].append(address)
                return true
            })
        {
            return
        }
        sodium_free(pointer)
    }
}

/// Bytes that may be secret: held in `sodium_malloc` memory (locked against swapping where
/// the system allows, kept out of core dumps) and wiped when released.
///
/// Guard pages surround each `sodium_malloc` region, not each buffer (see
/// `SecureAllocator`): a buffer of at most 1,024 bytes (a key, a name being opened) is a slot
/// of a one-page slab it shares with up to 62 others, so a write past its end reaches its
/// neighbours before any guard page. A larger buffer has a region of its own, of its size
/// class (4, 16 or 64 KiB, wiped and kept for reuse) or, above 64 KiB, of its exact size.
///
/// The bytes are reachable only inside `withUnsafeBytes`, so no pointer to them escapes.
/// Keys, plaintexts being sealed and plaintexts just opened all live in one of these.
public final class SecureBytes: @unchecked Sendable {
    // Sendable: the memory is written only during initialisation and never after.
    private let pointer: UnsafeMutableRawPointer?
    private let capacity: Int
    /// The number of bytes held.
    public let count: Int

    /// Allocates `count` bytes and lets `initializer` fill them; on a throw the memory is
    /// wiped and released before the error propagates.
    public init(count: Int, initializingWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        _ = Sodium.ready
        self.count = count
        if count == 0 {
            pointer = nil
            capacity = 0
            try initializer(UnsafeMutableRawBufferPointer(start: nil, count: 0))
            return
        }
        let (raw, capacity) = SecureAllocator.shared.allocate(count)
        pointer = raw
        self.capacity = capacity
        do {
            try initializer(UnsafeMutableRawBufferPointer(start: raw, count: count))
        } catch {
            SecureAllocator.shared.release(raw, capacity: capacity)
            throw error
        }
    }

    /// Copies `bytes` into secure memory. The caller stays responsible for its own copy.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { $0.copyMemory(from: bytes) }
    }

    /// `count` bytes from the secure random source.
    public static func random(count: Int) -> SecureBytes {
        SecureBytes(count: count) { randomFill($0) }
    }

    deinit {
        if let pointer { SecureAllocator.shared.release(pointer, capacity: capacity) }  // wiped first
    }

    /// Calls `body` with `count` bytes of secure memory to work in, wiped and released when
    /// it returns: for a plaintext needed only while it is read (a name `list` opens),
    /// without an object to allocate per use.
    static func withScratch<R, E: Error>(count: Int, _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        _ = Sodium.ready
        let (raw, capacity) = SecureAllocator.shared.allocate(max(count, 1))
        defer { SecureAllocator.shared.release(raw, capacity: capacity) }  // wiped first
        return try body(UnsafeMutableRawBufferPointer(start: raw, count: count))
    }

    /// Calls `body` with read access to the bytes; the pointer must not escape `body`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Compares in constant time with respect to the contents (the lengths are not secret).
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        guard count == other.count else { return false }
        if count == 0 { return true }
        return sodium_memcmp(pointer!, other.pointer!, count) == 0
    }
}
