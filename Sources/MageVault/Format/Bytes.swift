extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the body's typed error (the standard library's version
    /// erases it to `any Error`). Carried out in two optionals, not a `Result`: the optimiser
    /// names a `Result<R, E>` by its mangled name, and instantiating it looks up `E: Error`
    /// among all of the program's conformances (ARCHITECTURE.md, the start-up rule).
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var failure: E?
        let value: R? = withUnsafeBytes { raw in
            do throws(E) { return try body(raw) } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw failure }
        return value!
    }
}

/// True when `a` sorts before `b` compared as unsigned bytes, a proper prefix first: the
/// order of names (`vault-format.md`: names are compared as bytes, as their tags are).
func bytesPrecede(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let common = min(a.count, b.count)
    var index = 0
    // Eight bytes at a time: read big-endian, a word compares as its bytes do in order.
    while index + 8 <= common {
        let x = a.loadUnaligned(fromByteOffset: index, as: UInt64.self).bigEndian
        let y = b.loadUnaligned(fromByteOffset: index, as: UInt64.self).bigEndian
        if x != y { return x < y }
        index += 8
    }
    while index < common {
        if a[index] != b[index] { return a[index] < b[index] }
        index += 1
    }
    return a.count < b.count
}

/// The positions `0..<count` ordered by the byte strings `bytes(position)` as `bytesPrecede`
/// orders them. Each string's first 16 bytes, zeros after a shorter one, are read once as
/// two big-endian words, and the words order the strings as their bytes do (a zero pad never
/// sorts after a byte, and a string that ends there is a prefix of the other). So the sort
/// compares integers, not two walks over names; only strings whose words are equal (that
/// share their first 16 bytes) are then ordered whole.
///
/// The sort is a merge sort of its own over those keys, comparing them inline: the standard
/// library's `sort()` calls a comparison closure per step and, on a command's first sort,
/// looks up the key's `Comparable` conformance among all of the program's (together some
/// 0.1 ms of a 1,000-name `list`). Merge sort takes n log n steps whatever the order.
func positionsSortedByBytes(_ count: Int, _ bytes: (Int) -> UnsafeRawBufferPointer) -> [Int] {
    var keys = [SortKey](unsafeUninitializedCapacity: count) { buffer, initialized in
        for position in 0..<count {
            var words: (UInt64, UInt64) = (0, 0)
            let string = bytes(position)
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: string.prefix(16))) }
            buffer.initializeElement(at: position, to: SortKey(high: words.0.bigEndian, low: words.1.bigEndian, position: position))
        }
        initialized = count
    }
    keys.withUnsafeMutableBufferPointer { SortKey.sort($0) }
    var start = 0
    while start < keys.count {
        var end = start + 1
        while end < keys.count, keys[end].high == keys[start].high, keys[end].low == keys[start].low { end += 1 }
        if end - start > 1 { keys[start..<end].sort { bytesPrecede(bytes($0.position), bytes($1.position)) } }
        start = end
    }
    return [Int](unsafeUninitializedCapacity: count) { buffer, initialized in
        for index in 0..<count { buffer.initializeElement(at: index, to: keys[index].position) }
        initialized = count
    }
}

/// A string's first 16 bytes as two big-endian words, and its position (which makes every
/// key distinct: the sort needs no stability).
struct SortKey {
    var high: UInt64
    var low: UInt64
    var position: Int

    @inline(__always)
    static func precedes(_ a: SortKey, _ b: SortKey) -> Bool {
        if a.high != b.high { return a.high < b.high }
        if a.low != b.low { return a.low < b.low }
        return a.position < b.position
    }

    /// Sorts `keys` in place: runs of 16 by insertion, then runs merged pairwise, back and
    /// forth between `keys` and a buffer as large.
    static func sort(_ keys: UnsafeMutableBufferPointer<SortKey>) {
        let count = keys.count
        guard count > 1, let base = keys.baseAddress else { return }
        let run = 16
        var start = 0
        while start < count {
            let end = min(count, start + run)
            var index = start + 1
            while index < end {
                let key = base[index]
                var hole = index
                while hole > start, precedes(key, base[hole - 1]) {
                    base[hole] = base[hole - 1]
                    hole -= 1
                }
                base[hole] = key
                index += 1
            }
            start = end
        }
        guard count > run else { return }
        let spare = UnsafeMutablePointer<SortKey>.allocate(capacity: count)
        defer { spare.deallocate() }
        var from = base, to = spare
        var width = run
        while width < count {
            var low = 0
            while low < count {
                let middle = min(count, low + width), high = min(count, low + 2 * width)
                var left = low, right = middle, out = low
                while left < middle, right < high {
                    if precedes(from[right], from[left]) {
                        to[out] = from[right]
                        right += 1
                    } else {
                        to[out] = from[left]
                        left += 1
                    }
                    out += 1
                }
                while left < middle {
                    to[out] = from[left]
                    left += 1
                    out += 1
                }
                while right < high {
                    to[out] = from[right]
                    right += 1
                    out += 1
                }
                low = high
            }
            swap(&from, &to)
            width *= 2
        }
        if from != base { base.update(from: from, count: count) }
    }
}
