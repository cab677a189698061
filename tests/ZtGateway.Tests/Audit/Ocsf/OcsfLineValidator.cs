using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ZtGateway.Tests.Audit.Ocsf;

/// <summary>
/// One validation of one line against a compiled schema. It follows the OCSF server's validator (required
/// attributes, unknown attributes, types, enums, constraints, profiles, type_uid, version, observables) and is
/// stricter where a clean line is the aim: what the server only warns about (deprecations, an enum sibling that
/// is not its caption, a value that does not match its type's regex) is a violation here, and so are JSON nulls,
/// empty objects and an <c>_id</c> of 99 (Other) without its sibling.
/// </summary>
internal sealed partial class OcsfLineValidator
{
    private const string Other = "99";

    private readonly OcsfSchema _schema;
    private readonly List<string> _violations = [];
    private readonly HashSet<string> _profiles = new(StringComparer.Ordinal);

    public OcsfLineValidator(OcsfSchema schema) => _schema = schema;

    public IReadOnlyList<string> Run(JsonElement line)
    {
        if (line.ValueKind != JsonValueKind.Object)
        {
            Add("$", $"an OCSF line is a JSON object, not {Kind(line)}");
            return _violations;
        }

        if (!line.TryGetProperty("class_uid", out var uid) || uid.ValueKind == JsonValueKind.Null)
        {
            Add("$.class_uid", uid.ValueKind == JsonValueKind.Null ? "null is not allowed" : "required attribute missing (every class)");
            return _violations;
        }

        if (!uid.TryGetInt32(out var classUid))
        {
            Add("$.class_uid", $"expected integer_t, got {Kind(uid)}");
            return _violations;
        }

        if (!_schema.Classes.TryGetValue(classUid, out var item))
        {
            Add("$.class_uid", $"{classUid} is not a class of OCSF {_schema.Version}");
            return _violations;
        }

        ReadProfiles(line);
        if (item.Deprecated is { } deprecated)
        {
            Add("$", $"{item.Description} is {deprecated}");
        }

        ValidateItem(line, "$", item);
        CheckTypeUid(line, item);
        CheckVersion(line);
        CheckObservableNames(line, item);
        return _violations;
    }

    private void ReadProfiles(JsonElement line)
    {
        if (!line.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object
            || !metadata.TryGetProperty("profiles", out var profiles) || profiles.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var index = 0;
        foreach (var profile in profiles.EnumerateArray())
        {
            if (profile.ValueKind == JsonValueKind.String)
            {
                var name = profile.GetString()!;
                if (_schema.Profiles.Contains(name))
                {
                    _profiles.Add(name);
                }
                else
                {
                    Add($"$.metadata.profiles[{index}]", $"'{name}' is not a profile of OCSF {_schema.Version}");
                }
            }

            index++;
        }
    }

    private bool Allowed(OcsfAttribute attribute) => attribute.Profile is null || _profiles.Contains(attribute.Profile);

    // A JSON object against a class or object definition.
    private void ValidateItem(JsonElement value, string path, OcsfItem item)
    {
        if (!value.EnumerateObject().Any())
        {
            Add(path, "empty object");
            return;
        }

        var open = item.Attributes.Count == 0;
        foreach (var property in value.EnumerateObject())
        {
            var propertyPath = Join(path, property.Name);
            if (open)
            {
                // An object without attributes (the "object" of unmapped) takes anything.
                ScanOpen(property.Value, propertyPath);
                continue;
            }

            if (!item.Attributes.TryGetValue(property.Name, out var attribute))
            {
                Add(propertyPath, $"not an attribute of {item.Description} or its declared profiles");
                continue;
            }

            if (!Allowed(attribute))
            {
                Add(propertyPath, $"attribute of profile '{attribute.Profile}' not declared in metadata.profiles");
            }

            ValidateValue(property.Value, propertyPath, attribute);
        }

        if (open)
        {
            return;
        }

        foreach (var attribute in item.Attributes.Values.Where(a => a.Requirement == OcsfRequirement.Required && Allowed(a)).OrderBy(a => a.Name, StringComparer.Ordinal))
        {
            if (!value.TryGetProperty(attribute.Name, out _))
            {
                Add(Join(path, attribute.Name), $"required attribute missing ({item.Description})");
            }
        }

        foreach (var constraint in item.Constraints)
        {
            var count = constraint.Attributes.Count(name => value.TryGetProperty(name, out var member) && member.ValueKind != JsonValueKind.Null);
            var names = string.Join(", ", constraint.Attributes);
            if (constraint.Kind == "at_least_one" && count == 0)
            {
                Add(path, $"at_least_one of {names} is required ({item.Description})");
            }
            else if (constraint.Kind == "just_one" && count != 1)
            {
                Add(path, $"just_one of {names} is allowed, found {count} ({item.Description})");
            }
        }

        foreach (var property in value.EnumerateObject())
        {
            if (item.Attributes.TryGetValue(property.Name, out var attribute) && attribute.Enum is not null)
            {
                CheckEnum(value, path, item, attribute, property.Value);
            }
        }
    }

    private void ValidateValue(JsonElement value, string path, OcsfAttribute attribute)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            Add(path, "null is not allowed");
            return;
        }

        if (attribute.Deprecated is { } deprecated)
        {
            Add(path, $"attribute {attribute.Name} is {deprecated}");
        }

        if (!attribute.IsArray)
        {
            ValidateSingle(value, path, attribute);
            return;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            Add(path, $"expected an array of {TypeText(attribute)}, got {Kind(value)}");
            return;
        }

        var index = 0;
        foreach (var element in value.EnumerateArray())
        {
            var elementPath = $"{path}[{index++}]";
            if (element.ValueKind == JsonValueKind.Null)
            {
                Add(elementPath, "null is not allowed");
            }
            else
            {
                ValidateSingle(element, elementPath, attribute);
            }
        }
    }

    private void ValidateSingle(JsonElement value, string path, OcsfAttribute attribute)
    {
        if (attribute.ObjectType is { } objectType)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                Add(path, $"expected object {objectType}, got {Kind(value)}");
                return;
            }

            var item = _schema.Objects[objectType];
            if (item.Deprecated is { } deprecated)
            {
                Add(path, $"{item.Description} is {deprecated}");
            }

            ValidateItem(value, path, item);
            return;
        }

        var type = _schema.Types[attribute.Type];
        var matches = type.Primitive switch
        {
            "string_t" => value.ValueKind == JsonValueKind.String,
            "integer_t" => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out _),
            "long_t" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
            "float_t" => value.ValueKind == JsonValueKind.Number,
            "boolean_t" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            "json_t" => true,
            _ => throw new InvalidDataException($"OCSF schema: type {type.Name} has the unknown primitive {type.Primitive}"),
        };
        if (!matches)
        {
            Add(path, $"expected {TypeText(attribute)}, got {Kind(value)}");
            return;
        }

        switch (type.Primitive)
        {
            case "string_t":
                CheckString(value.GetString()!, path, type);
                break;
            case "integer_t" or "long_t" or "float_t":
                CheckRange(value.GetDouble(), path, type);
                break;
            case "json_t":
                ScanOpen(value, path);
                break;
            default:
                break;
        }

        for (var step = type; step is not null; step = step.Super is null ? null : _schema.Types[step.Super])
        {
            if (step.Values is { } values && !values.Contains(value.GetRawText(), StringComparer.Ordinal))
            {
                Add(path, $"{Shown(value)} is not one of the values of {step.Name}");
            }
        }
    }

    // The type's constraints and its super types': length, regex, and what ip_t, uuid_t and url_t mean.
    private void CheckString(string text, string path, OcsfDataType type)
    {
        for (var step = type; step is not null; step = step.Super is null ? null : _schema.Types[step.Super])
        {
            if (step.MaxLength is { } max && text.Length > max)
            {
                Add(path, $"{text.Length} characters is longer than {step.Name} allows ({max})");
            }

            if (step.Pattern is { } pattern && !pattern.IsMatch(text))
            {
                Add(path, $"{Quote(text)} is not a valid {step.Name}");
                return;
            }

            var valid = step.Name switch
            {
                "ip_t" => IPAddress.TryParse(text, out _),
                "uuid_t" => Guid.TryParseExact(text, "D", out _),
                "url_t" => Uri.TryCreate(text, UriKind.Absolute, out var uri) && text.StartsWith(uri.Scheme + ":", StringComparison.OrdinalIgnoreCase),
                _ => true,
            };
            if (!valid)
            {
                Add(path, $"{Quote(text)} is not a valid {step.Name}");
                return;
            }
        }
    }

    private void CheckRange(double number, string path, OcsfDataType type)
    {
        for (var step = type; step is not null; step = step.Super is null ? null : _schema.Types[step.Super])
        {
            if (step.Range is { } range && (number < range.Low || number > range.High))
            {
                Add(path, $"{number.ToString(CultureInfo.InvariantCulture)} is outside the range of {step.Name} ({range.Low.ToString(CultureInfo.InvariantCulture)}..{range.High.ToString(CultureInfo.InvariantCulture)})");
            }
        }
    }

    private void CheckEnum(JsonElement owner, string path, OcsfItem item, OcsfAttribute attribute, JsonElement value)
    {
        // A class's type_uid is checked against class_uid and activity_id (CheckTypeUid), and its class_uid picked
        // the class; their siblings are still checked here.
        var reportMissing = !(item.IsClass && attribute.Name is "type_uid" or "class_uid");
        var attributePath = Join(path, attribute.Name);
        if (!attribute.IsArray)
        {
            CheckEnumValue(owner, path, attributePath, item, attribute, value, index: null, reportMissing);
            return;
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var element in value.EnumerateArray())
            {
                CheckEnumValue(owner, path, $"{attributePath}[{index}]", item, attribute, element, index, reportMissing);
                index++;
            }
        }
    }

    private void CheckEnumValue(JsonElement owner, string path, string valuePath, OcsfItem item, OcsfAttribute attribute, JsonElement value, int? index, bool reportMissing)
    {
        if (EnumKey(value, attribute) is not { } key)
        {
            return; // a wrong type, reported already
        }

        if (!attribute.Enum!.TryGetValue(key, out var entry))
        {
            if (!reportMissing)
            {
                return;
            }

            Add(valuePath, item.IsClass && attribute.Name == "category_uid"
                ? $"{key} is not the category of {item.Description} ({item.CategoryUid})"
                : $"{Shown(value)} is not in the enum");
            return;
        }

        if (entry.Deprecated is { } deprecated)
        {
            Add(valuePath, $"value {Shown(value)} is {deprecated}");
        }

        if (attribute.Sibling is not { } siblingName || !item.Attributes.TryGetValue(siblingName, out var sibling) || !Allowed(sibling))
        {
            return;
        }

        var siblingPath = Join(path, siblingName) + (index is null ? string.Empty : $"[{index}]");
        JsonElement? siblingValue = null;
        if (owner.TryGetProperty(siblingName, out var found) && found.ValueKind != JsonValueKind.Null)
        {
            if (index is null)
            {
                siblingValue = found;
            }
            else if (found.ValueKind == JsonValueKind.Array && found.GetArrayLength() > index)
            {
                siblingValue = found[index.Value];
            }
        }

        if (key == Other && value.ValueKind == JsonValueKind.Number)
        {
            if (siblingValue is null)
            {
                Add(siblingPath, $"missing: {attribute.Name} is 99 ({entry.Caption}), so {siblingName} must say what it is");
            }
        }
        else if (siblingValue is { ValueKind: JsonValueKind.String } text && text.GetString() != entry.Caption)
        {
            Add(siblingPath, $"{Quote(text.GetString()!)} is not the caption of {attribute.Name} {key} ({Quote(entry.Caption)})");
        }
    }

    private string? EnumKey(JsonElement value, OcsfAttribute attribute)
    {
        if (attribute.ObjectType is not null)
        {
            return null;
        }

        var primitive = _schema.Types[attribute.Type].Primitive;
        return primitive switch
        {
            "integer_t" or "long_t" when value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) => number.ToString(CultureInfo.InvariantCulture),
            "string_t" when value.ValueKind == JsonValueKind.String => value.GetString(),
            _ => null,
        };
    }

    private void CheckTypeUid(JsonElement line, OcsfItem item)
    {
        if (!line.TryGetProperty("type_uid", out var typeUid) || !typeUid.TryGetInt64Safe(out var type))
        {
            return;
        }

        if (line.TryGetProperty("activity_id", out var activity) && activity.TryGetInt64Safe(out var activityId))
        {
            var expected = ((long)item.ClassUid!.Value * 100) + activityId;
            if (type != expected)
            {
                Add("$.type_uid", $"{type} is not class_uid * 100 + activity_id ({expected})");
            }
        }
        else if (!item.Attributes["type_uid"].Enum!.ContainsKey(type.ToString(CultureInfo.InvariantCulture)))
        {
            Add("$.type_uid", $"{type} is not a type of {item.Description}");
        }
    }

    private void CheckVersion(JsonElement line)
    {
        if (line.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String
            && version.GetString() != _schema.Version)
        {
            Add("$.metadata.version", $"{Quote(version.GetString()!)} is not the schema version {_schema.Version}");
        }
    }

    // Each observable's name must be the dotted path of an attribute the line may have.
    private void CheckObservableNames(JsonElement line, OcsfItem item)
    {
        if (!line.TryGetProperty("observables", out var observables) || observables.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var index = 0;
        foreach (var observable in observables.EnumerateArray())
        {
            if (observable.ValueKind == JsonValueKind.Object && observable.TryGetProperty("name", out var name)
                && name.ValueKind == JsonValueKind.String && !Names(item, name.GetString()!.Split('.')))
            {
                Add($"$.observables[{index}].name", $"{Quote(name.GetString()!)} does not name an attribute of {item.Description}");
            }

            index++;
        }
    }

    private bool Names(OcsfItem item, string[] keys)
    {
        var current = item;
        for (var i = 0; i < keys.Length; i++)
        {
            if (!current.Attributes.TryGetValue(keys[i], out var attribute) || !Allowed(attribute))
            {
                return false;
            }

            if (i < keys.Length - 1)
            {
                if (attribute.ObjectType is null)
                {
                    return false;
                }

                current = _schema.Objects[attribute.ObjectType];
            }
        }

        return true;
    }

    // Content the schema leaves open (unmapped, json_t) still has no nulls and no empty objects.
    private void ScanOpen(JsonElement value, string path)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                Add(path, "null is not allowed");
                break;
            case JsonValueKind.Object:
                if (!value.EnumerateObject().Any())
                {
                    Add(path, "empty object");
                }

                foreach (var property in value.EnumerateObject())
                {
                    ScanOpen(property.Value, Join(path, property.Name));
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var element in value.EnumerateArray())
                {
                    ScanOpen(element, $"{path}[{index++}]");
                }

                break;
            default:
                break;
        }
    }

    private string TypeText(OcsfAttribute attribute)
    {
        if (attribute.ObjectType is { } objectType)
        {
            return "object " + objectType;
        }

        var type = _schema.Types[attribute.Type];
        return type.Primitive == type.Name ? type.Name : $"{type.Name} ({type.Primitive})";
    }

    private void Add(string path, string message) => _violations.Add(path + ": " + message);

    private static string Join(string path, string name) => SimpleName().IsMatch(name) ? path + "." + name : $"{path}['{name}']";

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Number => "number " + value.GetRawText(),
        JsonValueKind.String => "string " + Quote(value.GetString()!),
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };

    private static string Shown(JsonElement value) => value.ValueKind == JsonValueKind.String ? Quote(value.GetString()!) : value.GetRawText();

    private static string Quote(string text) => "\"" + (text.Length > 80 ? text[..77] + "..." : text) + "\"";

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex SimpleName();
}

internal static class OcsfJsonElementExtensions
{
    /// <summary>An integer value of a number element; false for any other kind (no exception).</summary>
    public static bool TryGetInt64Safe(this JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value);
    }
}
