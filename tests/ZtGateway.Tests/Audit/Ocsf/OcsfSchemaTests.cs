using System.Text.Json;
using System.Text.Json.Nodes;

namespace ZtGateway.Tests.Audit.Ocsf;

/// <summary>
/// The OCSF validator itself: hand-built lines of the classes the gateway writes (and API Activity) are valid
/// against the vendored 1.8.0 schema, and each kind of violation is caught, at its exact path, in a copy of one
/// of them changed in that one way.
/// </summary>
public sealed class OcsfSchemaTests
{
    // HTTP Activity with the profiles its members need: security_control (action, disposition, policy), host
    // (actor, device) and trace (trace).
    private const string HttpActivity = """
        {
          "time": 1800000000000,
          "class_uid": 4002, "class_name": "HTTP Activity",
          "category_uid": 4, "category_name": "Network Activity",
          "activity_id": 3, "activity_name": "Get",
          "type_uid": 400203, "type_name": "HTTP Activity: Get",
          "severity_id": 1, "severity": "Informational",
          "status_id": 1, "status": "Success", "status_detail": "allowed",
          "action_id": 1, "action": "Allowed",
          "disposition_id": 1, "disposition": "Allowed",
          "metadata": {
            "uid": "d-1", "version": "1.8.0", "profiles": ["security_control", "host", "trace"],
            "product": { "name": "ZtGateway", "vendor_name": "ZtGateway" }
          },
          "actor": { "user": { "uid": "alice", "type_id": 1, "type": "User" } },
          "device": { "uid": "laptop-7", "type_id": 0, "type": "Unknown" },
          "src_endpoint": { "ip": "10.10.1.2", "port": 50432 },
          "dst_endpoint": { "svc_name": "payroll" },
          "http_request": { "http_method": "GET", "url": { "path": "/payroll/x" } },
          "http_response": { "code": 200 },
          "policy": { "uid": "payroll-read", "name": "ledger-sync", "is_applied": true },
          "trace": { "uid": "0af7651916cd43dd8448eb211c80319c" },
          "observables": [ { "name": "src_endpoint.ip", "type_id": 2, "type": "IP Address", "value": "10.10.1.2" } ],
          "unmapped": { "ztgw": { "reason": "allowed", "src_segment": "finance", "dst_segment": "hr" } }
        }
        """;

    // Detection Finding: the finding class takes device and the confidence/risk attributes itself (its own
    // "profile": null), so only action and disposition need security_control, and actor host.
    private const string DetectionFinding = """
        {
          "time": 1800000000000,
          "class_uid": 2004, "class_name": "Detection Finding",
          "category_uid": 2, "category_name": "Findings",
          "activity_id": 1, "activity_name": "Create",
          "type_uid": 200401, "type_name": "Detection Finding: Create",
          "severity_id": 4, "severity": "High",
          "status_id": 1, "status": "New",
          "action_id": 3, "action": "Observed",
          "disposition_id": 15, "disposition": "Detected",
          "is_alert": true,
          "message": "requests to 3 distinct segments",
          "metadata": {
            "uid": "f-1", "version": "1.8.0", "profiles": ["security_control", "host"],
            "product": { "name": "ZtGateway", "vendor_name": "ZtGateway" }
          },
          "finding_info": {
            "uid": "f-1", "title": "Fan-out to many segments", "desc": "requests to 3 distinct segments",
            "types": ["lateral-movement", "segment-fan-out"],
            "analytic": { "uid": "segment-fan-out", "name": "Fan-out to many segments", "type_id": 2, "type": "Behavioral" },
            "last_seen_time": 1800000000000,
            "related_events": [ { "uid": "d-9", "type_uid": 400203, "type_name": "HTTP Activity: Get" } ]
          },
          "actor": { "user": { "uid": "mallory", "type_id": 1, "type": "User" } },
          "device": { "uid": "laptop-9", "type_id": 0 },
          "unmapped": { "ztgw": { "detection": "segment-fan-out", "count": 3, "threshold": 2 } }
        }
        """;

    // Entity Management: IAM classes take actor themselves, so no profile is needed.
    private const string EntityManagement = """
        {
          "time": 1800000000000,
          "class_uid": 3004, "class_name": "Entity Management",
          "category_uid": 3, "category_name": "Identity & Access Management",
          "activity_id": 1, "activity_name": "Create",
          "type_uid": 300401, "type_name": "Entity Management: Create",
          "severity_id": 3, "severity": "Medium",
          "status_id": 1, "status": "Success",
          "message": "hold laptop-9 (device-compliance-change: not-compliant)",
          "metadata": {
            "uid": "c-1", "version": "1.8.0",
            "product": { "name": "ZtGateway", "vendor_name": "ZtGateway" }
          },
          "entity": { "uid": "laptop-9", "type_id": 1, "type": "Device" },
          "actor": { "user": { "uid": "https://edr.test" } },
          "unmapped": { "ztgw": { "change": "hold", "target": "device", "at": 1799999970000 } }
        }
        """;

    // API Activity: actor and api are the class's own (required, "profile": null); src_endpoint is required.
    private const string ApiActivity = """
        {
          "time": 1800000000000,
          "class_uid": 6003, "class_name": "API Activity",
          "category_uid": 6, "category_name": "Application Activity",
          "activity_id": 1, "activity_name": "Create",
          "type_uid": 600301, "type_name": "API Activity: Create",
          "severity_id": 1, "severity": "Informational",
          "status_id": 1, "status": "Success",
          "metadata": { "uid": "a-1", "version": "1.8.0", "product": { "name": "ZtGateway" } },
          "actor": { "user": { "uid": "alice", "name": "alice" } },
          "api": { "operation": "CreateQuarantine", "service": { "name": "ztgw-admin" } },
          "src_endpoint": { "ip": "2001:db8::7" },
          "http_request": { "http_method": "POST", "url": { "url_string": "https://gw.test/admin/quarantines" } },
          "http_response": { "code": 201 },
          "resources": [ { "uid": "mallory", "type": "principal" } ]
        }
        """;

    private static OcsfSchema Schema => OcsfSchema.Vendored;

    [Fact]
    public void Load_CompilesTheVendoredSchema()
    {
        Assert.Equal("1.8.0", Schema.Version);
        Assert.Contains(4002, Schema.ClassUids);
        Assert.Contains(2004, Schema.ClassUids);
        Assert.Contains(3004, Schema.ClassUids);
        Assert.Contains(6003, Schema.ClassUids);
        Assert.DoesNotContain(4000, Schema.ClassUids); // network is an intermediate class
        Assert.Contains("security_control", Schema.Profiles);
        Assert.Contains("datetime", Schema.Profiles);
    }

    [Theory]
    [InlineData(HttpActivity)]
    [InlineData(DetectionFinding)]
    [InlineData(EntityManagement)]
    [InlineData(ApiActivity)]
    public void HandBuiltLine_IsValid(string line) => Assert.Empty(Validate(Parse(line)));

    [Fact]
    public void MissingRequiredAttribute_OfTheClass()
    {
        Assert.Equal(
            ["$.time: required attribute missing (class 4002 HTTP Activity)"],
            Mutated(HttpActivity, line => line.Remove("time")));
    }

    [Fact]
    public void MissingRequiredAttribute_OfANestedObject()
    {
        Assert.Equal(
            ["$.http_response.code: required attribute missing (object http_response)"],
            Mutated(HttpActivity, line => line["http_response"] = new JsonObject { ["status"] = "OK" }));
        Assert.Equal(
            ["$.api.operation: required attribute missing (object api)"],
            Mutated(ApiActivity, line => Obj(line, "api").Remove("operation")));
    }

    [Fact]
    public void UnknownAttribute()
    {
        Assert.Equal(
            ["$.foo: not an attribute of class 4002 HTTP Activity or its declared profiles"],
            Mutated(HttpActivity, line => line["foo"] = 1));
        Assert.Equal(
            ["$.actor.user.segment: not an attribute of object user or its declared profiles"],
            Mutated(HttpActivity, line => Obj(line, "actor", "user")["segment"] = "finance"));
        Assert.Equal(
            ["$.src_endpoint: not an attribute of class 2004 Detection Finding or its declared profiles"],
            Mutated(DetectionFinding, line => line["src_endpoint"] = new JsonObject { ["ip"] = "10.10.1.2" }));
    }

    [Fact]
    public void Unmapped_TakesAnything()
    {
        Assert.Empty(Mutated(HttpActivity, line => Obj(line, "unmapped")["anything"] = new JsonObject { ["at"] = new JsonArray(1, "two", true) }));
    }

    [Fact]
    public void WrongType()
    {
        Assert.Equal(
            ["$.time: expected timestamp_t (long_t), got string \"2027-01-15T08:00:00Z\""],
            Mutated(HttpActivity, line => line["time"] = "2027-01-15T08:00:00Z"));
        Assert.Equal(
            ["$.policy.is_applied: expected boolean_t, got string \"yes\""],
            Mutated(HttpActivity, line => Obj(line, "policy")["is_applied"] = "yes"));
        Assert.Equal(
            ["$.http_response.code: expected integer_t, got number 200.5"],
            Mutated(HttpActivity, line => Obj(line, "http_response")["code"] = 200.5));
        Assert.Equal(
            ["$.actor: expected object actor, got string \"alice\""],
            Mutated(HttpActivity, line => line["actor"] = "alice"));
        Assert.Equal(
            ["$.finding_info.types: expected an array of string_t, got string \"lateral-movement\""],
            Mutated(DetectionFinding, line => Obj(line, "finding_info")["types"] = "lateral-movement"));
    }

    [Fact]
    public void WrongType_ByTheDictionaryTypesConstraints()
    {
        Assert.Equal(
            ["$.src_endpoint.ip: \"10.10.1\" is not a valid ip_t"],
            Mutated(HttpActivity, line => Obj(line, "src_endpoint")["ip"] = "10.10.1"));
        Assert.Equal(
            ["$.src_endpoint.port: 70000 is outside the range of port_t (0..65535)"],
            Mutated(HttpActivity, line => Obj(line, "src_endpoint")["port"] = 70000));
        Assert.Equal(
            ["$.http_request.url.url_string: \"/admin/quarantines\" is not a valid url_t"],
            Mutated(ApiActivity, line => Obj(line, "http_request", "url")["url_string"] = "/admin/quarantines"));
    }

    [Fact]
    public void EnumValueNotInTheEnum()
    {
        Assert.Equal(
            ["$.severity_id: 9 is not in the enum"],
            Mutated(HttpActivity, line =>
            {
                line["severity_id"] = 9;
                line.Remove("severity");
            }));
        Assert.Equal(
            ["$.http_request.http_method: \"PROPFIND\" is not in the enum"],
            Mutated(HttpActivity, line => Obj(line, "http_request")["http_method"] = "PROPFIND"));
        Assert.Equal(
            ["$.observables[0].type_id: 9999 is not in the enum"],
            Mutated(HttpActivity, line =>
            {
                var observable = line["observables"]![0]!.AsObject();
                observable["type_id"] = 9999;
                observable.Remove("type");
            }));
    }

    [Fact]
    public void EnumSibling_OtherNeedsItsString_AndAKnownValueItsCaption()
    {
        Assert.Equal(
            ["$.activity_name: missing: activity_id is 99 (Other), so activity_name must say what it is"],
            Mutated(HttpActivity, line =>
            {
                line["activity_id"] = 99;
                line["type_uid"] = 400299;
                line.Remove("activity_name");
                line.Remove("type_name");
            }));
        Assert.Empty(Mutated(HttpActivity, line =>
        {
            line["activity_id"] = 99;
            line["activity_name"] = "Propfind";
            line["type_uid"] = 400299;
            line["type_name"] = "HTTP Activity: Other";
        }));
        Assert.Equal(
            ["$.action: \"Blocked\" is not the caption of action_id 1 (\"Allowed\")"],
            Mutated(HttpActivity, line => line["action"] = "Blocked"));
    }

    [Fact]
    public void AttributeOfAProfileTheLineDoesNotDeclare()
    {
        Assert.Equal(
            [
                "$.actor: attribute of profile 'host' not declared in metadata.profiles",
                "$.device: attribute of profile 'host' not declared in metadata.profiles",
            ],
            Mutated(HttpActivity, line => line["metadata"]!["profiles"] = new JsonArray("security_control", "trace")));
        Assert.Equal(
            ["$.trace: attribute of profile 'trace' not declared in metadata.profiles"],
            Mutated(HttpActivity, line => line["metadata"]!["profiles"] = new JsonArray("security_control", "host")));
    }

    [Fact]
    public void ProfileTheSchemaDoesNotHave()
    {
        Assert.Equal(
            ["$.metadata.profiles[3]: 'zero_trust' is not a profile of OCSF 1.8.0"],
            Mutated(HttpActivity, line => line["metadata"]!["profiles"]!.AsArray().Add("zero_trust")));
    }

    [Fact]
    public void DeclaredProfile_MakesItsRequiredAttributesRequired()
    {
        Assert.Equal(
            ["$.cloud: required attribute missing (class 3004 Entity Management)"],
            Mutated(EntityManagement, line => line["metadata"]!["profiles"] = new JsonArray("cloud")));
    }

    [Fact]
    public void Null_IsNotAllowed_AnywhereInTheLine()
    {
        Assert.Equal(
            ["$.policy.name: null is not allowed"],
            Mutated(HttpActivity, line => Obj(line, "policy")["name"] = null));
        Assert.Equal(
            ["$.unmapped.ztgw.reason: null is not allowed"],
            Mutated(HttpActivity, line => Obj(line, "unmapped", "ztgw")["reason"] = null));
        Assert.Equal(
            ["$.finding_info.types[1]: null is not allowed"],
            Mutated(DetectionFinding, line => line["finding_info"]!["types"]![1] = null));
    }

    [Fact]
    public void EmptyObject_IsNotAllowed()
    {
        Assert.Equal(
            ["$.actor.user: empty object"],
            Mutated(HttpActivity, line => Obj(line, "actor")["user"] = new JsonObject()));
        Assert.Equal(
            ["$.unmapped.ztgw: empty object"],
            Mutated(HttpActivity, line => Obj(line, "unmapped")["ztgw"] = new JsonObject()));
    }

    [Fact]
    public void AtLeastOneConstraint_OfTheClass()
    {
        Assert.Equal(
            ["$: at_least_one of http_request, http_response is required (class 4002 HTTP Activity)"],
            Mutated(HttpActivity, line =>
            {
                line.Remove("http_request");
                line.Remove("http_response");
            }));
    }

    [Fact]
    public void AtLeastOneConstraint_OfAnObject()
    {
        Assert.Equal(
            ["$.http_request.url: at_least_one of url_string, path is required (object url)"],
            Mutated(HttpActivity, line => Obj(line, "http_request")["url"] = new JsonObject { ["query_string"] = "a=1" }));
        Assert.Equal(
            ["$.entity: at_least_one of name, uid, device, group, org, policy, user is required (object managed_entity)"],
            Mutated(EntityManagement, line => Obj(line, "entity").Remove("uid")));
    }

    [Fact]
    public void JustOneConstraint()
    {
        Assert.Equal(
            ["$.vulnerabilities[0]: just_one of advisory, cve, cwe is allowed, found 2 (object vulnerability)"],
            Mutated(DetectionFinding, line => line["vulnerabilities"] = new JsonArray(new JsonObject
            {
                ["cve"] = new JsonObject { ["uid"] = "CVE-2026-0001" },
                ["cwe"] = new JsonObject { ["uid"] = "CWE-284" },
            })));
    }

    [Fact]
    public void TypeUid_IsClassUidTimes100PlusActivityId()
    {
        Assert.Equal(
            ["$.type_uid: 400206 is not class_uid * 100 + activity_id (400203)"],
            Mutated(HttpActivity, line =>
            {
                line["type_uid"] = 400206;
                line.Remove("type_name");
            }));
        Assert.Equal(
            ["$.type_name: \"HTTP Activity: Post\" is not the caption of type_uid 400203 (\"HTTP Activity: Get\")"],
            Mutated(HttpActivity, line => line["type_name"] = "HTTP Activity: Post"));
    }

    [Fact]
    public void CategoryUid_IsTheClasssCategory()
    {
        Assert.Equal(
            ["$.category_uid: 3 is not the category of class 4002 HTTP Activity (4)"],
            Mutated(HttpActivity, line =>
            {
                line["category_uid"] = 3;
                line.Remove("category_name");
            }));
    }

    [Fact]
    public void UnknownClass()
    {
        Assert.Equal(
            ["$.class_uid: 4999 is not a class of OCSF 1.8.0"],
            Mutated(HttpActivity, line => line["class_uid"] = 4999));
    }

    [Fact]
    public void WrongVersion()
    {
        Assert.Equal(
            ["$.metadata.version: \"1.3.0\" is not the schema version 1.8.0"],
            Mutated(HttpActivity, line => line["metadata"]!["version"] = "1.3.0"));
    }

    [Fact]
    public void DeprecatedAttribute()
    {
        Assert.Equal(
            ["$.http_status: attribute http_status is deprecated since 1.1.0 (Use the http_response.code attribute instead.)"],
            Mutated(HttpActivity, line => line["http_status"] = 200));
    }

    [Fact]
    public void DatetimeCompanions_BelongToTheDatetimeProfile()
    {
        Assert.Equal(
            ["$.time_dt: attribute of profile 'datetime' not declared in metadata.profiles"],
            Mutated(EntityManagement, line => line["time_dt"] = "2027-01-15T08:00:00Z"));
        Assert.Empty(Mutated(EntityManagement, line =>
        {
            line["time_dt"] = "2027-01-15T08:00:00Z";
            line["metadata"]!["profiles"] = new JsonArray("datetime");
        }));
        Assert.Equal(
            ["$.time_dt: \"15 January 2027\" is not a valid datetime_t"],
            Mutated(EntityManagement, line =>
            {
                line["time_dt"] = "15 January 2027";
                line["metadata"]!["profiles"] = new JsonArray("datetime");
            }));
    }

    [Fact]
    public void ObservableName_MustNameAnAttributeOfTheLine()
    {
        Assert.Equal(
            ["$.observables[0].name: \"src_endpoint.address\" does not name an attribute of class 4002 HTTP Activity"],
            Mutated(HttpActivity, line => line["observables"]![0]!["name"] = "src_endpoint.address"));
    }

    [Fact]
    public void Load_FollowsIncludesExtendsRemovalsAndProfiles()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ztgw-ocsf-" + Guid.NewGuid().ToString("N"));
        try
        {
            WriteMiniSchema(directory);
            var schema = OcsfSchema.Load(directory);
            const string valid = """
                {"class_uid":7001,"class_name":"Child","category_uid":7,"activity_id":1,"activity_name":"Make","type_uid":700101,
                 "time":1,"metadata":{"version":"9.9.9"},"extra":"x","thing":{"name":"t","type_id":1},"color_id":1,"color":"Red",
                 "observables":[{"name":"thing","type_id":30,"type":"Thing"}]}
                """;

            IReadOnlyList<string> Check(Action<JsonObject> mutate)
            {
                var line = Parse(valid);
                mutate(line);
                using var document = JsonDocument.Parse(line.ToJsonString());
                return schema.Validate(document.RootElement);
            }

            Assert.Empty(Check(_ => { }));

            // "legacy": null in the child removed the base event's attribute.
            Assert.Equal(["$.legacy: not an attribute of class 7001 Child or its declared profiles"], Check(line => line["legacy"] = "x"));

            // "extra" came from the included profile; the child's "profile": null made it its own (and required).
            Assert.Equal(["$.extra: required attribute missing (class 7001 Child)"], Check(line => line.Remove("extra")));

            // The profile's required "name" is required once the line declares the profile.
            Assert.Equal(["$.name: required attribute missing (class 7001 Child)"], Check(line => line["metadata"]!["profiles"] = new JsonArray("extra")));
            Assert.Equal(["$.name: attribute of profile 'extra' not declared in metadata.profiles"], Check(line => line["name"] = "n"));

            // color_id's enum came from an attribute-level $include; 2 is deprecated there.
            Assert.Equal(["$.color_id: value 2 is deprecated since 9.0.0 (Use 1 instead.)"], Check(line =>
            {
                line["color_id"] = 2;
                line.Remove("color");
            }));

            // The object's type_id enum is the dictionary's (0, 99) and its own (1); its constraint is its parent's.
            Assert.Equal(["$.thing.type: missing: type_id is 99 (Other), so type must say what it is"], Check(line => line["thing"]!["type_id"] = 99));
            Assert.Equal(["$.thing.type_id: 2 is not in the enum"], Check(line => line["thing"]!["type_id"] = 2));
            Assert.Equal(["$.thing: at_least_one of name, value is required (object thing)"], Check(line => Obj(line, "thing").Remove("name")));

            // type_uid follows the child's activities (its own and the base event's).
            Assert.Equal(["$.type_uid: 700199 is not class_uid * 100 + activity_id (700101)"], Check(line => line["type_uid"] = 700199));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void WriteMiniSchema(string directory)
    {
        void Write(string path, string json)
        {
            var file = Path.Combine(directory, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, json);
        }

        Write("version.json", """{"version":"9.9.9"}""");
        Write("categories.json", """{"attributes":{"making":{"uid":7,"caption":"Making"}}}""");
        Write("dictionary.json", """
            {"attributes":{
              "activity_id":{"caption":"Activity ID","type":"integer_t","sibling":"activity_name","enum":{"0":{"caption":"Unknown"},"99":{"caption":"Other"}}},
              "activity_name":{"caption":"Activity","type":"string_t"},
              "category_uid":{"caption":"Category ID","type":"integer_t","sibling":"category_name"},
              "category_name":{"caption":"Category","type":"string_t"},
              "class_uid":{"caption":"Class ID","type":"integer_t","sibling":"class_name"},
              "class_name":{"caption":"Class","type":"string_t"},
              "type_uid":{"caption":"Type ID","type":"long_t","sibling":"type_name"},
              "type_name":{"caption":"Type","type":"string_t"},
              "metadata":{"caption":"Metadata","type":"metadata"},
              "version":{"caption":"Version","type":"string_t"},
              "profiles":{"caption":"Profiles","type":"string_t","is_array":true},
              "time":{"caption":"Time","type":"timestamp_t"},
              "thing":{"caption":"Thing","type":"thing"},
              "name":{"caption":"Name","type":"string_t"},
              "value":{"caption":"Value","type":"string_t"},
              "legacy":{"caption":"Legacy","type":"string_t"},
              "extra":{"caption":"Extra","type":"string_t"},
              "color_id":{"caption":"Color ID","type":"integer_t","sibling":"color"},
              "color":{"caption":"Color","type":"string_t"},
              "type_id":{"caption":"Type ID","type":"integer_t","sibling":"type","enum":{"0":{"caption":"Unknown"},"99":{"caption":"Other"}}},
              "type":{"caption":"Type","type":"string_t"},
              "observables":{"caption":"Observables","type":"observable","is_array":true}
            },
            "types":{"attributes":{
              "string_t":{"caption":"String"},"integer_t":{"caption":"Integer"},"long_t":{"caption":"Long"},
              "boolean_t":{"caption":"Boolean","values":[false,true]},"float_t":{"caption":"Float"},"json_t":{"caption":"JSON"},
              "timestamp_t":{"caption":"Timestamp","type":"long_t"},
              "datetime_t":{"caption":"Datetime","type":"string_t","regex":"^\\d{4}-"}
            }}}
            """);
        Write("profiles/extra.json", """
            {"name":"extra","caption":"Extra","meta":"profile","annotations":{"group":"context"},
             "attributes":{"extra":{"requirement":"optional"},"name":{"requirement":"required"}}}
            """);
        Write("profiles/datetime.json", """{"name":"datetime","caption":"Date/Time","meta":"profile","attributes":{}}""");
        Write("enums/colors.json", """
            {"enum":{"1":{"caption":"Red"},"2":{"caption":"Blue","@deprecated":{"message":"Use <code>1</code> instead.","since":"9.0.0"}}}}
            """);
        Write("events/base_event.json", """
            {"name":"base_event","caption":"Base Event","category":"other","attributes":{
              "$include":["profiles/extra.json"],
              "activity_id":{"requirement":"required"},"activity_name":{"requirement":"optional"},
              "category_uid":{"requirement":"required"},"category_name":{"requirement":"optional"},
              "class_uid":{"requirement":"required"},"class_name":{"requirement":"optional"},
              "type_uid":{"requirement":"required"},"type_name":{"requirement":"optional"},
              "metadata":{"requirement":"required"},"time":{"requirement":"required"},
              "legacy":{"requirement":"optional"},"observables":{"requirement":"recommended"}}}
            """);
        Write("events/making/making.json", """
            {"name":"making","caption":"Making","category":"making","extends":"base_event","attributes":{
              "thing":{"requirement":"recommended"},
              "color_id":{"$include":"enums/colors.json","requirement":"optional"},"color":{"requirement":"optional"}}}
            """);
        Write("events/making/child.json", """
            {"name":"child","uid":1,"caption":"Child","extends":"making","attributes":{
              "legacy":null,
              "extra":{"profile":null,"requirement":"required"},
              "activity_id":{"enum":{"1":{"caption":"Make"}}}}}
            """);
        Write("objects/object.json", """{"name":"object","caption":"Object","attributes":{}}""");
        Write("objects/metadata.json", """
            {"name":"metadata","caption":"Metadata","extends":"object","attributes":{"version":{"requirement":"required"},"profiles":{"requirement":"optional"}}}
            """);
        Write("objects/_named.json", """
            {"name":"_named","caption":"Named","extends":"object","constraints":{"at_least_one":["name","value"]},
             "attributes":{"name":{"requirement":"recommended"},"value":{"requirement":"optional"}}}
            """);
        Write("objects/thing.json", """
            {"name":"thing","caption":"Thing","extends":"_named","observable":30,
             "attributes":{"type_id":{"requirement":"required","enum":{"1":{"caption":"Round"}}},"type":{"requirement":"optional"}}}
            """);
        Write("objects/observable.json", """
            {"name":"observable","caption":"Observable","extends":"object",
             "attributes":{"name":{"requirement":"recommended"},"type_id":{"requirement":"required"},"type":{"requirement":"optional"},"value":{"requirement":"optional"}}}
            """);
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private static JsonObject Obj(JsonObject line, params string[] path)
    {
        JsonNode node = line;
        foreach (var name in path)
        {
            node = node[name]!;
        }

        return node.AsObject();
    }

    private static IReadOnlyList<string> Validate(JsonObject line)
    {
        using var document = JsonDocument.Parse(line.ToJsonString());
        return Schema.Validate(document.RootElement);
    }

    private static IReadOnlyList<string> Mutated(string valid, Action<JsonObject> mutate)
    {
        var line = Parse(valid);
        Assert.Empty(Validate(line));
        mutate(line);
        return Validate(line);
    }
}
