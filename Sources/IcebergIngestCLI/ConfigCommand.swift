import ArgumentParser
import Foundation
import IcebergCore
import IcebergIngest

extension IcebergIngestCommand {
    /// `iceberg-ingest config --show`: the job as it would run, each setting with its value (secrets
    /// redacted) and where it came from. Reads nothing but the job file and the environment.
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the effective configuration: each setting, its value (secrets redacted) and where it came from (flag, environment variable, job file, default).",
            discussion: """
                Precedence, highest first: flags, ICEBERG_INGEST_<SECTION>_<KEY> environment variables (the process's own, \
                then --env-file's), the job file, defaults. The output names each setting's variable.
                """)

        @OptionGroup var job: JobOptions
        @Flag(name: .long, help: "Show the effective configuration (the only action; required so that the command says what it does).")
        var show = false
        @Flag(name: .long, help: "Print one JSON line: {\"settings\": [{\"key\", \"value\", \"origin\", \"variable\"}]}.")
        var json = false

        func validate() throws {
            guard show else { throw ValidationError("config needs --show") }
        }

        func run() throws {
            do {
                let settings = try job.job().effectiveSettings()
                let variables = Dictionary(uniqueKeysWithValues: IngestJob.settingNames.map { ($0.key, $0.variable) })
                if json {
                    let items: [JSONValue] = settings.map { setting in
                        .object([
                            ("key", .string(setting.key)), ("value", .string(setting.value)), ("origin", .string(setting.origin)),
                            ("variable", .string(variables[setting.key] ?? "")),
                        ])
                    }
                    print(JSONValue.object([("settings", .array(items))]).serialized())
                } else {
                    let width = settings.map(\.key.count).max() ?? 0
                    for setting in settings {
                        let padded = setting.key.padding(toLength: width, withPad: " ", startingAt: 0)
                        print("\(padded)  \(setting.value)    [\(setting.origin); \(variables[setting.key] ?? "")]")
                    }
                }
            } catch {
                throw ExitCodes.report(error)
            }
        }
    }
}
