import Foundation
import Testing

@testable import IcebergCore

/// Hashes, transforms and single-value serialization against the spec's own vectors.
@Suite struct SpecValueTests {
    /// Spec Appendix B: "32-bit Hash Requirements", the table of example hash values.
    @Test func murmur3SpecVectors() throws {
        let uuid = try #require(UUID(uuidString: "f79c3e09-677c-4bbd-a479-3f349cb785e7"))
        let cases: [(Literal, Int32)] = [
            (.int(34), 2_017_239_379),
            (.long(34), 2_017_239_379),
            (.decimal(unscaled: 1420, scale: 2), -500_754_589),
            (.date(17_486), -653_330_422),  // 2017-11-16
            (.time(81_068_000_000), -662_762_989),  // 22:31:08
            (.timestamp(1_510_871_468_000_000), -2_047_944_441),  // 2017-11-16T22:31:08
            (.timestamptz(1_510_871_468_000_000), -2_047_944_441),
            (.string("iceberg"), 1_210_000_089),
            (.uuid(uuid), 1_488_055_340),
            (.fixed([0, 1, 2, 3]), -188_683_207),
            (.binary([0, 1, 2, 3]), -188_683_207),
        ]
        for (value, expected) in cases {
            #expect(Murmur3.hash(value) == expected, "\(value)")
        }
        #expect(Murmur3.hash(.double(1.0)) == nil)
        // bucket[N] = (hash & Int.max) % N
        #expect(Transform.bucket(16).apply(.int(34)) == .int(Int32((2_017_239_379 & Int64(Int32.max)) % 16)))
        #expect(Transform.bucket(100).apply(.string("iceberg")) == .int(89))
    }

    @Test func dateAndTimeTransformsIncludingBeforeTheEpoch() throws {
        let ts: Int64 = 1_764_000_000_000_000  // 2025-11-24T16:00:00Z
        #expect(Transform.hour.apply(.timestamptz(ts)) == .int(490_000))
        #expect(Transform.day.apply(.timestamptz(ts)) == .date(20_416))
        #expect(Transform.month.apply(.timestamptz(ts)) == .int(55 * 12 + 10))
        #expect(Transform.year.apply(.timestamp(ts)) == .int(55))
        #expect(Transform.hour.humanString(.int(490_000)) == "2025-11-24-16")
        #expect(Transform.day.humanString(.date(20_416)) == "2025-11-24")
        #expect(Transform.month.humanString(.int(55 * 12 + 10)) == "2025-11")
        #expect(Transform.year.humanString(.int(55)) == "2025")
        // One microsecond before the epoch is hour -1, day -1 (1969-12-31), month -1, year -1.
        #expect(Transform.hour.apply(.timestamp(-1)) == .int(-1))
        #expect(Transform.day.apply(.timestamp(-1)) == .date(-1))
        #expect(Transform.month.apply(.timestamp(-1)) == .int(-1))
        #expect(Transform.year.apply(.timestamp(-1)) == .int(-1))
        #expect(Transform.day.humanString(.date(-1)) == "1969-12-31")
        #expect(Transform.month.apply(.date(CivilTime.days(year: 2000, month: 3, day: 1).asInt32)) == .int(30 * 12 + 2))
        #expect(Transform.void.apply(.long(5)) == nil)
        #expect(Transform.identity.apply(nil) == nil)
    }

    @Test func truncateTransform() {
        #expect(Transform.truncate(10).apply(.int(1)) == .int(0))
        #expect(Transform.truncate(10).apply(.int(-1)) == .int(-10))
        #expect(Transform.truncate(10).apply(.long(-15)) == .long(-20))
        #expect(Transform.truncate(50).apply(.decimal(unscaled: 1065, scale: 2)) == .decimal(unscaled: 1050, scale: 2))
        #expect(Transform.truncate(3).apply(.string("iceberg")) == .string("ice"))
        #expect(Transform.truncate(2).apply(.string("日本語")) == .string("日本"))  // code points, not bytes
        #expect(Transform.truncate(2).apply(.binary([1, 2, 3])) == .binary([1, 2]))
    }

    @Test func transformNamesParseAndPrint() throws {
        for name in ["identity", "bucket[16]", "truncate[4]", "year", "month", "day", "hour", "void"] {
            #expect(try Transform(parsing: name).description == name)
        }
        #expect(throws: IcebergError.self) { try Transform(parsing: "bucket[0]") }
        #expect(throws: IcebergError.self) { try Transform(parsing: "zorder") }
        #expect(Transform.day.resultType(.timestamptz) == .date)
        #expect(Transform.bucket(4).resultType(.string) == .int)
        #expect(!Transform.hour.canTransform(.date))
    }

    /// Appendix D, for every primitive type, both ways.
    @Test func singleValueBinarySerialization() throws {
        let uuid = try #require(UUID(uuidString: "f79c3e09-677c-4bbd-a479-3f349cb785e7"))
        let cases: [(Literal, PrimitiveType, [UInt8])] = [
            (.boolean(true), .boolean, [1]),
            (.int(1), .int, [1, 0, 0, 0]),
            (.long(-2), .long, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            (.float(1.0), .float, [0, 0, 0x80, 0x3f]),
            (.double(-0.5), .double, [0, 0, 0, 0, 0, 0, 0xe0, 0xbf]),
            (.decimal(unscaled: 1420, scale: 2), .decimal(precision: 9, scale: 2), [0x05, 0x8c]),
            (.decimal(unscaled: -1, scale: 0), .decimal(precision: 9, scale: 0), [0xff]),
            (.decimal(unscaled: 128, scale: 1), .decimal(precision: 20, scale: 1), [0x00, 0x80]),
            (.decimal(unscaled: -129, scale: 1), .decimal(precision: 20, scale: 1), [0xff, 0x7f]),
            (.date(17_486), .date, [0x4e, 0x44, 0, 0]),
            (.time(81_068_000_000), .time, Literal.littleEndian(Int64(81_068_000_000))),
            (.timestamp(1), .timestamp, [1, 0, 0, 0, 0, 0, 0, 0]),
            (.timestamptz(256), .timestamptz, [0, 1, 0, 0, 0, 0, 0, 0]),
            (.string("é"), .string, [0xc3, 0xa9]),
            (.uuid(uuid), .uuid, [0xf7, 0x9c, 0x3e, 0x09, 0x67, 0x7c, 0x4b, 0xbd, 0xa4, 0x79, 0x3f, 0x34, 0x9c, 0xb7, 0x85, 0xe7]),
            (.fixed([9, 8]), .fixed(length: 2), [9, 8]),
            (.binary([]), .binary, []),
        ]
        for (value, type, bytes) in cases {
            #expect(value.binary == bytes, "\(value) encodes")
            #expect(try Literal(binary: bytes, type: type) == value, "\(value) decodes")
        }
        #expect(throws: IcebergError.self) { try Literal(binary: [1, 2], type: .long) }
        #expect(throws: IcebergError.self) { try Literal(binary: [0xff], type: .string) }
    }

    @Test func printedValues() {
        #expect(Literal.decimal(unscaled: -5, scale: 3).description == "-0.005")
        #expect(Literal.decimal(unscaled: 1420, scale: 2).description == "14.20")
        #expect(Literal.timestamptz(1_510_871_468_000_001).description == "2017-11-16T22:31:08.000001+00:00")
        #expect(Literal.date(-719_162).description == "0001-01-01")
    }
}

extension Int64 {
    var asInt32: Int32 { Int32(self) }
}
