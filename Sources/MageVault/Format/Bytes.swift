extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the body's typed error (the standard library's version
    /// erases it to `any Error`).
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = withUnsafeBytes { raw in Result { () throws(E) in try body(raw) } }
        return try result.get()
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
func positionsSortedByBytes(_ count: Int, _ bytes: (Int) -> UnsafeRawBufferPointer) -> [Int] {
    struct Key: Comparable {
        var high: UInt64
        var low: UInt64
        var position: Int

        static func < (a: Key, b: Key) -> Bool { (a.high, a.low, a.position) < (b.high, b.low, b.position) }
    }
    var keys: [Key] = []
    keys.reserveCapacity(count)
    for position in 0..<count {
        var words: (UInt64, UInt64) = (0, 0)
        let string = bytes(position)
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: string.prefix(16))) }
        keys.append(Key(high: words.0.bigEndian, low: words.1.bigEndian, position: position))
    }
    keys.sort()
    var start = 0
    while start < keys.count {
        var end = start + 1
        while end < keys.count, keys[end].high == keys[start].high, keys[end].low == keys[start].low { end += 1 }
        if end - start > 1 { keys[start..<end].sort { bytesPrecede(bytes($0.position), bytes($1.position)) } }
        start = end
    }
    return keys.map(\.position)
}
