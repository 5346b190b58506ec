import FuzzTargets
import Foundation

// Built two ways. With `-sanitize=fuzzer -D FUZZING` (scripts/fuzz.sh) libFuzzer drives the target named by
// ICEBERG_FUZZ_TARGET through `LLVMFuzzerTestOneInput`. In a normal build it replays files:
// `iceberg-fuzz <target> <file or folder>...` runs each input once and prints what the target made of it,
// which is how a crash the fuzzer saved is reproduced under a debugger.

#if FUZZING
import CFuzzerDriver

nonisolated(unsafe) private var target = FuzzTarget.json

@main
struct Fuzz {
    static func main() {
        let name = ProcessInfo.processInfo.environment["ICEBERG_FUZZ_TARGET"] ?? ""
        guard let chosen = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("ICEBERG_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        target = chosen
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
            do {
                _ = try target.run(bytes)
            } catch {
                fatalError("\(error)")
            }
            return 0
        })
    }
}
#else
@main
struct Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            print("usage: iceberg-fuzz <\(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))> <file or folder>...")
            print("Replays inputs through one fuzz target (scripts/fuzz.sh builds the fuzzing kind of this executable).")
            exit(arguments.first == "--help" ? 0 : 2)
        }
        var failed = false
        for path in arguments.dropFirst() {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("\(file): cannot read")
                    failed = true
                    continue
                }
                do {
                    let outcome = try target.run([UInt8](data))
                    if let why = outcome.rejected {
                        print("\(file): rejected: \(why.prefix(300))")
                    } else {
                        print("\(file): accepted, \(outcome.badRecords) bad records")
                        for example in outcome.examples { print("  \(example.prefix(300))") }
                    }
                } catch {
                    print("\(file): FINDING: \(error)")
                    failed = true
                }
            }
        }
        exit(failed ? 1 : 0)
    }

    static func files(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
    }
}
#endif
