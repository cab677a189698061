using System.Text.RegularExpressions;

namespace ZtGateway.Tests.Audit.Ocsf;

/// <summary>How much a class or object asks for one of its attributes.</summary>
internal enum OcsfRequirement
{
    Optional,
    Recommended,
    Required,
}

/// <summary>An <c>@deprecated</c> marker: the schema's advice (HTML tags removed) and the version since.</summary>
internal sealed record OcsfDeprecation(string Message, string? Since)
{
    public override string ToString() => Since is null ? $"deprecated ({Message})" : $"deprecated since {Since} ({Message})";
}

/// <summary>One value of an enum attribute.</summary>
internal sealed record OcsfEnumValue(string Caption, OcsfDeprecation? Deprecated);

/// <summary>
/// A data type of the dictionary's <c>types</c>: its primitive (string_t, integer_t, long_t, float_t, boolean_t,
/// json_t) and the constraints it and its super types give.
/// </summary>
internal sealed record OcsfDataType(
    string Name,
    string Primitive,
    string? Super,
    Regex? Pattern,
    int? MaxLength,
    (double Low, double High)? Range,
    IReadOnlyList<string>? Values);

/// <summary>
/// One attribute of a compiled class or object: the dictionary's definition with the class's or object's own
/// settings (and those of its parents and included profiles) merged over it.
/// </summary>
internal sealed record OcsfAttribute(
    string Name,
    string Type,
    string? ObjectType,
    bool IsArray,
    OcsfRequirement Requirement,
    string? Profile,
    IReadOnlyDictionary<string, OcsfEnumValue>? Enum,
    string? Sibling,
    OcsfDeprecation? Deprecated);

/// <summary>An <c>at_least_one</c> or <c>just_one</c> constraint over attribute names.</summary>
internal sealed record OcsfConstraint(string Kind, IReadOnlyList<string> Attributes);

/// <summary>A compiled event class or object.</summary>
internal sealed class OcsfItem
{
    public required string Name { get; init; }

    public required string Caption { get; init; }

    /// <summary>The class_uid of a class (category_uid * 1000 + uid); null for an object.</summary>
    public int? ClassUid { get; init; }

    /// <summary>The category_uid of a class (0 for the base event); 0 for an object.</summary>
    public int CategoryUid { get; init; }

    public required IReadOnlyDictionary<string, OcsfAttribute> Attributes { get; init; }

    public required IReadOnlyList<OcsfConstraint> Constraints { get; init; }

    public OcsfDeprecation? Deprecated { get; init; }

    public bool IsClass => ClassUid is not null;

    /// <summary>How messages name it: <c>class 4002 HTTP Activity</c> or <c>object user</c>.</summary>
    public string Description => IsClass ? $"class {ClassUid} {Caption}" : $"object {Name}";
}
