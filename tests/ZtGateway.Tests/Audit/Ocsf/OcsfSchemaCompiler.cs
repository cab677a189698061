using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ZtGateway.Tests.Audit.Ocsf;

/// <summary>
/// Compiles the JSON files of one published OCSF schema version into classes and objects with their complete
/// attribute sets, following the rules of the OCSF server:
/// <list type="bullet">
/// <item><c>$include</c> of a profile file merges its attributes under the including file's own, each tagged with the
/// profile's name (and the profile's <c>annotations</c> as defaults); the includer may untag one with
/// <c>"profile": null</c>. An attribute-level <c>$include</c> merges the named file under that attribute.</item>
/// <item><c>extends</c> chains are resolved parent first; a child's attribute settings are deep-merged over the
/// parent's, an attribute set to <c>null</c> is removed; top-level keys (constraints, deprecation, category) are the
/// child's where it gives them, <c>profiles</c> lists are joined.</item>
/// <item>Classes without a <c>uid</c> (other than base_event) and objects named <c>_...</c> are intermediates only.
/// class_uid is category_uid * 1000 + uid; class_uid, category_uid and type_uid get the enums the server
/// synthesizes (type_uid = class_uid * 100 + each activity_id).</item>
/// <item>Every attribute is the dictionary's definition with the class's or object's settings deep-merged over it
/// (so enums are the union of both); a dictionary type that is not one of <c>types</c> names an object.</item>
/// <item>Each attribute whose dictionary type is timestamp_t gets a <c>&lt;name&gt;_dt</c> (datetime_t) companion
/// of the datetime profile.</item>
/// <item>The observable object's type_id enum gets every observable type the dictionary, objects and classes
/// declare.</item>
/// </list>
/// </summary>
internal sealed class OcsfSchemaCompiler
{
    private const string Include = "$include";
    private static readonly Regex HtmlTag = new("<[^>]+>", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private readonly string _root;
    private readonly Dictionary<string, JsonObject> _included = new(StringComparer.Ordinal);
    private JsonObject _dictionary = [];
    private Dictionary<string, OcsfDataType> _types = new(StringComparer.Ordinal);

    private OcsfSchemaCompiler(string root) => _root = root;

    public static OcsfSchema Compile(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException("no OCSF schema at " + directory);
        }

        return new OcsfSchemaCompiler(directory).Compile();
    }

    private OcsfSchema Compile()
    {
        var version = Str(ReadJson("version.json")["version"]) ?? throw Invalid("version.json has no version");
        var categories = (ReadJson("categories.json")["attributes"] as JsonObject) ?? throw Invalid("categories.json has no attributes");
        var dictionary = ReadJson("dictionary.json");
        var typeNodes = (dictionary["types"]?["attributes"] as JsonObject) ?? throw Invalid("dictionary.json has no types");
        _types = CompileTypes(typeNodes);
        _dictionary = (dictionary["attributes"] as JsonObject) ?? throw Invalid("dictionary.json has no attributes");
        foreach (var (name, node) in _dictionary)
        {
            if (node is not JsonObject attribute)
            {
                throw Invalid($"dictionary attribute {name} is not an object");
            }

            // As the server does: a type that is not a data type names an object.
            var type = Str(attribute["type"]) ?? "object_t";
            if (!_types.ContainsKey(type))
            {
                attribute["type"] = "object_t";
                attribute["object_type"] = type;
            }
        }

        var profiles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_root, "profiles"), "*.json"))
        {
            var profile = IncludedFile("profiles/" + Path.GetFileName(file));
            profiles.Add(Str(profile["name"]) ?? throw Invalid(file + " has no name"));
        }

        var rawClasses = ReadItems("events");
        var rawObjects = ReadItems("objects");

        var classes = new Dictionary<int, OcsfItem>();
        var resolvedClasses = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var name in rawClasses.Keys)
        {
            var resolved = Resolve(name, rawClasses, resolvedClasses, []);
            if (resolved["uid"] is null && name != "base_event")
            {
                continue;
            }

            var item = CompileClass(name, resolved, categories);
            if (!classes.TryAdd(item.ClassUid!.Value, item))
            {
                throw Invalid($"two classes have class_uid {item.ClassUid}");
            }
        }

        var objects = new Dictionary<string, OcsfItem>(StringComparer.Ordinal);
        var resolvedObjects = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var name in rawObjects.Keys)
        {
            var resolved = Resolve(name, rawObjects, resolvedObjects, []);
            if (!name.StartsWith('_'))
            {
                objects[name] = CompileItem(name, resolved, classUid: null, categoryUid: 0);
            }
        }

        AddObservableTypes(objects, rawClasses, rawObjects, typeNodes);
        CheckReferences(classes.Values.Concat(objects.Values), objects);
        return new OcsfSchema(version, classes, objects, _types, profiles);
    }

    private static Dictionary<string, OcsfDataType> CompileTypes(JsonObject typeNodes)
    {
        var types = new Dictionary<string, OcsfDataType>(StringComparer.Ordinal);
        foreach (var (name, node) in typeNodes)
        {
            var type = node as JsonObject ?? throw Invalid($"type {name} is not an object");
            var primitive = name;
            var super = Str(type["type"]);
            for (var step = super; step is not null; step = Str(typeNodes[step]?["type"]))
            {
                primitive = step;
            }

            Regex? pattern = Str(type["regex"]) is { } regex
                ? new Regex(regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(2))
                : null;
            int? maxLength = type["max_len"] is JsonValue max ? max.GetValue<int>() : null;
            (double, double)? range = type["range"] is JsonArray { Count: 2 } r
                ? (r[0]!.GetValue<double>(), r[1]!.GetValue<double>())
                : null;
            var values = type["values"] is JsonArray v ? v.Select(x => x?.ToJsonString() ?? "null").ToList() : null;
            types[name] = new OcsfDataType(name, primitive, super, pattern, maxLength, range, values);
        }

        return types;
    }

    // Every schema file below events/ or objects/, includes resolved, by name.
    private Dictionary<string, JsonObject> ReadItems(string directory)
    {
        var items = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_root, directory), "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var item = ReadJson(Path.GetRelativePath(_root, file));
            ResolveIncludes(item);
            var name = Str(item["name"]) ?? throw Invalid(file + " has no name");
            if (!items.TryAdd(name, item))
            {
                throw Invalid($"{file}: a second {directory} file named {name}");
            }
        }

        return items;
    }

    private void ResolveIncludes(JsonObject item)
    {
        if (item["attributes"] is not JsonObject attributes)
        {
            return;
        }

        if (attributes[Include] is { } include)
        {
            var files = include is JsonArray list ? list.Select(f => Str(f) ?? throw Invalid("an $include that is not a path")).ToList() : [Str(include) ?? throw Invalid("an $include that is not a path")];
            attributes.Remove(Include);
            foreach (var file in files)
            {
                var included = IncludedFile(file)["attributes"] as JsonObject ?? [];
                attributes = DeepMerge(included, attributes);
            }

            item["attributes"] = attributes;
        }

        // An attribute may include a file too (an enum kept on its own): that file under the attribute's settings.
        foreach (var name in attributes.Select(a => a.Key).ToList())
        {
            if (attributes[name] is JsonObject attribute && Str(attribute[Include]) is { } file)
            {
                attribute.Remove(Include);
                attributes[name] = DeepMerge(IncludedFile(file), attribute);
            }
        }
    }

    // An included file, read once; a profile's attributes carry its name and its annotations as defaults.
    private JsonObject IncludedFile(string file)
    {
        if (_included.TryGetValue(file, out var cached))
        {
            return cached;
        }

        var data = ReadJson(file);
        var profile = Str(data["meta"]) == "profile" ? Str(data["name"]) ?? throw Invalid(file + " has no name") : null;
        var annotations = data["annotations"] as JsonObject;
        if (data["attributes"] is JsonObject attributes && (profile is not null || annotations is not null))
        {
            var tagged = new JsonObject();
            foreach (var (name, node) in attributes)
            {
                var attribute = (JsonObject)(node?.DeepClone() ?? throw Invalid($"{file}: attribute {name} is null"));
                if (profile is not null)
                {
                    attribute["profile"] = profile;
                }

                tagged[name] = annotations is null ? attribute : DeepMerge(annotations, attribute);
            }

            data["attributes"] = tagged;
        }

        _included[file] = data;
        return data;
    }

    // The item with its extends chain applied, parents first.
    private static JsonObject Resolve(string name, Dictionary<string, JsonObject> raw, Dictionary<string, JsonObject> resolved, HashSet<string> visiting)
    {
        if (resolved.TryGetValue(name, out var done))
        {
            return done;
        }

        var item = raw.TryGetValue(name, out var found) ? found : throw Invalid("extends an undefined item: " + name);
        if (Str(item["extends"]) is not { } parentName)
        {
            resolved[name] = item;
            return item;
        }

        if (!visiting.Add(name))
        {
            throw Invalid("extends cycle at " + name);
        }

        var parent = Resolve(parentName, raw, resolved, visiting);
        var attributes = DeepMerge(parent["attributes"] as JsonObject ?? [], item["attributes"] as JsonObject ?? []);
        foreach (var removed in attributes.Where(a => a.Value is null).Select(a => a.Key).ToList())
        {
            attributes.Remove(removed);
        }

        var merged = (JsonObject)parent.DeepClone();
        foreach (var (key, value) in item)
        {
            if (value is null)
            {
                continue;
            }

            if (key == "profiles" && merged["profiles"] is JsonArray inherited && value is JsonArray own)
            {
                var names = inherited.Concat(own).Select(p => Str(p)).OfType<string>().Distinct(StringComparer.Ordinal);
                merged["profiles"] = new JsonArray(names.Select(n => (JsonNode)n).ToArray());
            }
            else
            {
                merged[key] = value.DeepClone();
            }
        }

        merged["attributes"] = attributes;
        resolved[name] = merged;
        return merged;
    }

    private OcsfItem CompileClass(string name, JsonObject resolved, JsonObject categories)
    {
        var category = Str(resolved["category"]);
        var categoryNode = category is null ? null : categories[category] as JsonObject;
        var categoryUid = categoryNode?["uid"]?.GetValue<int>() ?? 0;
        var classUid = (categoryUid * 1000) + (resolved["uid"]?.GetValue<int>() ?? 0);
        var item = CompileItem(name, resolved, classUid, categoryUid);
        var caption = item.Caption;
        var attributes = item.Attributes.ToDictionary(StringComparer.Ordinal);

        // The enums the server gives these three: this class, its category, and class_uid * 100 + activity_id.
        attributes["class_uid"] = attributes["class_uid"] with
        {
            Enum = new Dictionary<string, OcsfEnumValue> { [classUid.ToString(CultureInfo.InvariantCulture)] = new(caption, null) },
        };
        if (categoryNode is not null)
        {
            attributes["category_uid"] = attributes["category_uid"] with
            {
                Enum = new Dictionary<string, OcsfEnumValue>
                {
                    [categoryUid.ToString(CultureInfo.InvariantCulture)] = new(Str(categoryNode["caption"]) ?? category!, null),
                },
            };
        }

        var activities = (attributes.GetValueOrDefault("activity_id") ?? attributes.GetValueOrDefault("disposition_id"))?.Enum;
        var typeUids = new Dictionary<string, OcsfEnumValue>(StringComparer.Ordinal);
        foreach (var (key, value) in activities ?? new Dictionary<string, OcsfEnumValue>())
        {
            var typeUid = ((long)classUid * 100) + long.Parse(key, CultureInfo.InvariantCulture);
            typeUids[typeUid.ToString(CultureInfo.InvariantCulture)] = new($"{caption}: {value.Caption}", value.Deprecated);
        }

        typeUids[((long)classUid * 100).ToString(CultureInfo.InvariantCulture)] = new($"{caption}: Unknown", null);
        attributes["type_uid"] = attributes["type_uid"] with { Enum = typeUids };

        return new OcsfItem
        {
            Name = item.Name,
            Caption = caption,
            ClassUid = classUid,
            CategoryUid = categoryUid,
            Attributes = attributes,
            Constraints = item.Constraints,
            Deprecated = item.Deprecated,
        };
    }

    private OcsfItem CompileItem(string name, JsonObject resolved, int? classUid, int categoryUid)
    {
        var attributes = new Dictionary<string, OcsfAttribute>(StringComparer.Ordinal);
        var own = resolved["attributes"] as JsonObject ?? [];
        foreach (var (attributeName, node) in own)
        {
            if (node is not JsonObject settings)
            {
                continue;
            }

            var definition = _dictionary[attributeName] as JsonObject
                ?? throw Invalid($"{name}.{attributeName} is not in the dictionary");
            attributes[attributeName] = CompileAttribute(attributeName, DeepMerge(definition, settings));
        }

        // The datetime profile: a string companion of each timestamp.
        foreach (var attribute in attributes.Values.ToList())
        {
            var dt = attribute.Name + "_dt";
            if (Str(_dictionary[attribute.Name]?["type"]) == "timestamp_t" && !attributes.ContainsKey(dt))
            {
                attributes[dt] = new OcsfAttribute(dt, "datetime_t", null, attribute.IsArray, OcsfRequirement.Optional, "datetime", null, null, attribute.Deprecated);
            }
        }

        var constraints = new List<OcsfConstraint>();
        if (resolved["constraints"] is JsonObject constraintNodes)
        {
            foreach (var (kind, list) in constraintNodes)
            {
                if (kind is not ("at_least_one" or "just_one"))
                {
                    throw Invalid($"{name}: unknown constraint {kind}");
                }

                var names = (list as JsonArray ?? throw Invalid($"{name}: constraint {kind} is not a list")).Select(n => Str(n)).OfType<string>().ToList();
                constraints.Add(new OcsfConstraint(kind, names));
            }
        }

        return new OcsfItem
        {
            Name = name,
            Caption = Str(resolved["caption"]) ?? name,
            ClassUid = classUid,
            CategoryUid = categoryUid,
            Attributes = attributes,
            Constraints = constraints,
            Deprecated = Deprecation(resolved["@deprecated"]),
        };
    }

    private OcsfAttribute CompileAttribute(string name, JsonObject merged)
    {
        var type = Str(merged["type"]) ?? "object_t";
        string? objectType = null;
        if (!_types.ContainsKey(type))
        {
            objectType = type == "object_t" ? Str(merged["object_type"]) ?? throw Invalid($"{name}: object_t without object_type") : type;
            type = "object_t";
        }

        var requirement = Str(merged["requirement"]) switch
        {
            "required" => OcsfRequirement.Required,
            "recommended" => OcsfRequirement.Recommended,
            _ => OcsfRequirement.Optional,
        };

        Dictionary<string, OcsfEnumValue>? values = null;
        if (merged["enum"] is JsonObject enumNodes)
        {
            values = new Dictionary<string, OcsfEnumValue>(StringComparer.Ordinal);
            foreach (var (key, value) in enumNodes)
            {
                values[key] = new OcsfEnumValue(Str(value?["caption"]) ?? key, Deprecation(value?["@deprecated"]));
            }
        }

        var isArray = merged["is_array"] is JsonValue array && array.TryGetValue(out bool flag) && flag;
        return new OcsfAttribute(name, type, objectType, isArray, requirement, Str(merged["profile"]), values, Str(merged["sibling"]), Deprecation(merged["@deprecated"]));
    }

    // The observable object's type_id enum: the types, dictionary attributes, objects and class or object
    // attributes the schema marks observable, captioned as the server captions them.
    private void AddObservableTypes(Dictionary<string, OcsfItem> objects, Dictionary<string, JsonObject> rawClasses, Dictionary<string, JsonObject> rawObjects, JsonObject typeNodes)
    {
        if (!objects.TryGetValue("observable", out var observable) || observable.Attributes.GetValueOrDefault("type_id") is not { } typeId)
        {
            throw Invalid("the schema has no observable object with a type_id");
        }

        var values = new Dictionary<string, OcsfEnumValue>(typeId.Enum ?? new Dictionary<string, OcsfEnumValue>(), StringComparer.Ordinal);
        void Add(JsonNode? id, string caption)
        {
            if (id is JsonValue v && v.TryGetValue(out int number))
            {
                var key = number.ToString(CultureInfo.InvariantCulture);
                if (!values.TryAdd(key, new OcsfEnumValue(caption, null)))
                {
                    throw Invalid($"observable type_id {key} is declared twice");
                }
            }
        }

        foreach (var (name, type) in typeNodes)
        {
            Add(type?["observable"], Str(type?["caption"]) ?? name);
        }

        foreach (var (name, attribute) in _dictionary)
        {
            Add(attribute?["observable"], Str(attribute?["caption"]) ?? name);
        }

        foreach (var (kind, items) in new[] { ("Object", rawObjects), ("Class", rawClasses) })
        {
            foreach (var (name, item) in items)
            {
                var caption = RawCaption(name, items);
                Add(item["observable"], caption);
                foreach (var (attributeName, attribute) in item["attributes"] as JsonObject ?? [])
                {
                    Add(attribute?["observable"], $"{caption} {kind}: {attributeName}");
                }

                foreach (var (path, id) in item["observables"] as JsonObject ?? [])
                {
                    Add(id, $"{caption} {kind}: {path}");
                }
            }
        }

        var attributes = observable.Attributes.ToDictionary(StringComparer.Ordinal);
        attributes["type_id"] = typeId with { Enum = values };
        objects["observable"] = new OcsfItem
        {
            Name = observable.Name,
            Caption = observable.Caption,
            Attributes = attributes,
            Constraints = observable.Constraints,
            Deprecated = observable.Deprecated,
        };
    }

    private static string RawCaption(string name, Dictionary<string, JsonObject> items)
    {
        for (var item = items.GetValueOrDefault(name); item is not null; item = Str(item["extends"]) is { } parent ? items.GetValueOrDefault(parent) : null)
        {
            if (Str(item["caption"]) is { } caption)
            {
                return caption;
            }
        }

        return name;
    }

    private void CheckReferences(IEnumerable<OcsfItem> items, Dictionary<string, OcsfItem> objects)
    {
        foreach (var item in items)
        {
            foreach (var attribute in item.Attributes.Values)
            {
                if (attribute.ObjectType is { } objectType && !objects.ContainsKey(objectType))
                {
                    throw Invalid($"{item.Name}.{attribute.Name} names an undefined object {objectType}");
                }

                if (attribute.ObjectType is null && !_types.ContainsKey(attribute.Type))
                {
                    throw Invalid($"{item.Name}.{attribute.Name} has an undefined type {attribute.Type}");
                }
            }
        }
    }

    private static OcsfDeprecation? Deprecation(JsonNode? node) => node is JsonObject deprecated
        ? new OcsfDeprecation(HtmlTag.Replace(Str(deprecated["message"]) ?? string.Empty, string.Empty).Trim(), Str(deprecated["since"]))
        : null;

    /// <summary>
    /// The OCSF server's deep merge: keys of <paramref name="right"/> win, two objects merge recursively (an empty
    /// one gives way to the other), a <c>null</c> on the right stays as a null (a removal marker).
    /// </summary>
    internal static JsonObject DeepMerge(JsonObject left, JsonObject right)
    {
        var merged = (JsonObject)left.DeepClone();
        foreach (var (key, value) in right)
        {
            if (merged[key] is JsonObject l && value is JsonObject r)
            {
                merged[key] = l.Count == 0 ? r.DeepClone() : r.Count == 0 ? l.DeepClone() : DeepMerge(l, r);
            }
            else
            {
                merged[key] = value?.DeepClone();
            }
        }

        return merged;
    }

    private JsonObject ReadJson(string relativePath)
    {
        var path = Path.Combine(_root, relativePath);
        return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw Invalid(relativePath + " is not a JSON object");
    }

    private static string? Str(JsonNode? node) => node is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    private static InvalidDataException Invalid(string message) => new("OCSF schema: " + message);
}
