/// URI encoding as SigV4 and S3 define it: unreserved characters (A-Z a-z 0-9 - _ . ~) stay, every other
/// UTF-8 byte becomes %XX (upper-case hex). Object keys keep `/`; query components do not.
public enum S3URIEncoding {
    static let unreserved: [Bool] = (0..<256).map { b in
        (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b == 0x2d || b == 0x5f || b == 0x2e || b == 0x7e
    }
    static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            if unreserved[Int(b)] || (keepSlash && b == 0x2f) {
                out.append(b)
            } else {
                out += [0x25, hexDigits[Int(b >> 4)], hexDigits[Int(b & 0x0f)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An object key as it appears in a request path (`my key+1=2` becomes `my%20key%2B1%3D2`).
    public static func path(_ key: String) -> String { encode(key, keepSlash: true) }

    /// A query parameter name or value.
    public static func queryComponent(_ text: String) -> String { encode(text, keepSlash: false) }

    /// A canonical query string: pairs encoded, sorted by name then value, joined with `&`.
    public static func canonicalQuery(_ items: [(String, String)]) -> String {
        items.map { (queryComponent($0.0), queryComponent($0.1)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }
}
