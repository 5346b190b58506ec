import CMalloc
import Foundation

/// glibc's malloc gives threads that allocate at the same time arenas of their own, up to eight per core, and
/// memory freed in one arena is not reused by another: with parses, the encoder and transfers on threads of
/// their own, a 2 GB ingest (`iceberg-bench ingest-memory --threads N`) peaked at 406, 429 and 590 MB resident
/// with 1, 2 and 4 threads, against 335, 293 and 423 MB with the cap, at the same speed. The executables cap the arenas at the cores (at least 2) before any
/// thread starts; a library user's executable may do the same, or set `MALLOC_ARENA_MAX`.
package enum MallocArenas {
    /// Caps glibc's malloc arenas at `count`, unless `MALLOC_ARENA_MAX` already says how many (then glibc
    /// follows it). Call first thing in `main`. Does nothing where the C library is not glibc. Returns
    /// whether the cap was set.
    @discardableResult
    package static func limit(
        to count: Int = max(2, ProcessInfo.processInfo.activeProcessorCount), environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Bool {
        guard environment["MALLOC_ARENA_MAX"] == nil else { return false }
        return cmalloc_limit_arenas(Int32(clamping: max(1, count))) == 1
    }
}
