extension Literal {
    /// Orders two values of the same type the way Iceberg compares bounds: numbers numerically, strings and
    /// binary by unsigned bytes, booleans false before true. Nil for values of different types.
    public func compare(_ other: Literal) -> Int? {
        func order<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }
        switch (self, other) {
        case (.boolean(let a), .boolean(let b)): return order(a ? 1 : 0, b ? 1 : 0)
        case (.int(let a), .int(let b)), (.date(let a), .date(let b)): return order(a, b)
        case (.long(let a), .long(let b)), (.time(let a), .time(let b)), (.timestamp(let a), .timestamp(let b)),
            (.timestamptz(let a), .timestamptz(let b)):
            return order(a, b)
        case (.float(let a), .float(let b)): return order(a, b)
        case (.double(let a), .double(let b)): return order(a, b)
        case (.decimal(let a, let s1), .decimal(let b, let s2)) where s1 == s2: return order(a, b)
        case (.string, .string), (.uuid, .uuid), (.fixed, .fixed), (.binary, .binary):
            let a = binary, b = other.binary
            for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
            return order(a.count, b.count)
        default: return nil
        }
    }
}
