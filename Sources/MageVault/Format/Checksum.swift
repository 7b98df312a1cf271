import CCRC32C

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the keyless checksum at the end of
/// every line. It finds accidental damage (a flipped bit, a bad edit) in records of any
/// environment, including those whose key is absent; deliberate changes are the MAC's job.
///
/// Computed with the CPU's CRC-32C instruction where there is one (x86-64 SSE4.2, ARMv8
/// CRC: about 8 bytes per cycle), else with slicing-by-8 tables in Swift.
public enum CRC32C {
    /// Whether this CPU computes CRC-32C itself.
    public static let hardwareAvailable = mgv_crc32c_hardware_available() != 0

    /// The CRC-32C of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard hardwareAvailable else { return softwareChecksum(bytes) }
        guard let base = bytes.baseAddress else { return 0 }
        return ~mgv_crc32c_hardware_update(0xFFFF_FFFF, base, bytes.count)
    }

    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[0][byte] = crc
        }
        for byte in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[slice - 1][byte]
                tables[slice][byte] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
            }
        }
        return tables
    }()
    private static let flat: [UInt32] = tables.flatMap { $0 }

    /// The CRC-32C of `bytes` from the tables: the reference the hardware path is tested
    /// against, and the path on CPUs without the instruction.
    static func softwareChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        flat.withUnsafeBufferPointer { table in
            var index = 0
            let count = bytes.count
            // Slicing-by-8: eight table look-ups per eight bytes instead of a loop per byte.
            while index + 8 <= count {
                let low = crc ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian
                let high = bytes.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
                crc = table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = (crc >> 8) ^ table[Int((crc ^ UInt32(bytes[index])) & 0xFF)]
                index += 1
            }
        }
        return ~crc
    }
}
