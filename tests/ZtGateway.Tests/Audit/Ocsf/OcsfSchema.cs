using System.Text.Json;

namespace ZtGateway.Tests.Audit.Ocsf;

/// <summary>
/// A compiled OCSF schema (classes, objects, dictionary types and profiles of one published version) that checks
/// single OCSF JSON lines. <see cref="Validate(JsonElement)"/> gives one human-readable violation per problem, each
/// starting with the JSON path it is about, e.g. <c>$.actor: attribute of profile 'host' not declared in
/// metadata.profiles</c>; an empty list means the line is valid.
/// </summary>
public sealed class OcsfSchema
{
    /// <summary>The OCSF version the tests hold the audit lines to.</summary>
    public const string TargetVersion = "1.8.0";

    private static readonly Lazy<OcsfSchema> VendoredSchema = new(() => Load(VendoredDirectory));

    internal OcsfSchema(
        string version,
        IReadOnlyDictionary<int, OcsfItem> classes,
        IReadOnlyDictionary<string, OcsfItem> objects,
        IReadOnlyDictionary<string, OcsfDataType> types,
        IReadOnlySet<string> profiles)
    {
        Version = version;
        Classes = classes;
        Objects = objects;
        Types = types;
        Profiles = profiles;
    }

    /// <summary>The schema's version.json version, which every line's metadata.version must equal.</summary>
    public string Version { get; }

    /// <summary>Where the test build puts the vendored schema (tests/ocsf-schema/1.8.0).</summary>
    public static string VendoredDirectory => Path.Combine(AppContext.BaseDirectory, "ocsf-schema", TargetVersion);

    /// <summary>The vendored OCSF 1.8.0 schema, compiled once per test run.</summary>
    public static OcsfSchema Vendored => VendoredSchema.Value;

    /// <summary>The class_uid of every concrete class.</summary>
    public IEnumerable<int> ClassUids => Classes.Keys;

    /// <summary>The names of the schema's profiles, as metadata.profiles may name them.</summary>
    public IReadOnlySet<string> Profiles { get; }

    internal IReadOnlyDictionary<int, OcsfItem> Classes { get; }

    internal IReadOnlyDictionary<string, OcsfItem> Objects { get; }

    internal IReadOnlyDictionary<string, OcsfDataType> Types { get; }

    /// <summary>Reads and compiles the schema files in <paramref name="directory"/> (version.json, dictionary.json, ...).</summary>
    /// <exception cref="InvalidDataException">The files are not a schema this compiler understands.</exception>
    public static OcsfSchema Load(string directory) => OcsfSchemaCompiler.Compile(directory);

    /// <summary>The violations of one OCSF line; empty when it is valid.</summary>
    public IReadOnlyList<string> Validate(JsonElement line) => new OcsfLineValidator(this).Run(line);

    /// <summary>The violations of one OCSF line given as UTF-8 JSON (a trailing line end is fine).</summary>
    public IReadOnlyList<string> Validate(ReadOnlyMemory<byte> utf8Line)
    {
        using var document = JsonDocument.Parse(utf8Line);
        return Validate(document.RootElement);
    }
}
