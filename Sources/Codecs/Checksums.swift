import CZlib

/// Checksums and the one non-cryptographic hash used across the package.
package enum Checksum {
    /// CRC-32 (ISO-HDLC, zlib's `crc32`): Avro's snappy blocks carry it big-endian.
    package static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return 0 }
        return UInt32(CZlib.crc32(0, base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }

    package static func crc32(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { crc32($0) } }

    private static let crc32cTable: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of snappy's framing format.
    package static func crc32c(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        crc32cTable.withUnsafeBufferPointer { t in
            for byte in bytes { crc = t[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// The masked CRC-32C stored in snappy frames: rotated right by 15, plus a constant.
    package static func maskedCRC32C(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xa282_ead8
    }
}

/// FNV-1a, 64 bits: a stable hash (the same on every machine, process and release) for shard ownership,
/// file-name slugs and hash tables. Not for anything an attacker must not steer.
package struct FNV1a64 {
    package var value: UInt64 = 0xcbf2_9ce4_8422_2325
    @inlinable package init() {}

    @inlinable @inline(__always)
    package mutating func combine(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }

    @inlinable
    package mutating func combine<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes { combine(byte) }
    }

    /// The hash of `bytes`.
    @inlinable
    package static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var h = FNV1a64()
        h.combine(bytes)
        return h.value
    }

    /// The hash of `text`'s UTF-8 bytes.
    @inlinable package static func hash(_ text: String) -> UInt64 { hash(text.utf8) }
}
