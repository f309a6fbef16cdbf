using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using LlmResilience.Testing;

namespace LlmResilience.Tests.Testing;

/// <summary>
/// The public surface of LlmResilience.Testing is checked in as src/LlmResilience.Testing/api/LlmResilience.Testing.txt.
/// A change fails this test once and rewrites the listing, so the change shows up in review.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_Listing_MatchesTheCheckedInFile()
    {
        var listing = Render(typeof(FakeLlmServer).Assembly);
        var path = Path.Combine(RepositoryRoot(), "src", "LlmResilience.Testing", "api", "LlmResilience.Testing.txt");
        var checkedIn = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : string.Empty;

        if (checkedIn != listing)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, listing);
            Assert.Fail($"The public API changed; {path} was rewritten. Review the change and commit it.");
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LlmResilience.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("LlmResilience.sln not found above the test assembly.");
    }

    private static string Render(Assembly assembly)
    {
        var nullability = new NullabilityInfoContext();
        var text = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append(TypeHeader(type)).Append('\n');
            const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var members = new List<string>();
            members.AddRange(type.GetConstructors(Declared).Where(IsVisible).Select(c => $"{Access(c)}{Name(type)}({Parameters(c, nullability)})"));
            members.AddRange(type.GetProperties(Declared).Where(p => IsVisible(p.GetMethod) || IsVisible(p.SetMethod)).Select(p =>
                $"{Access(p.GetMethod ?? p.SetMethod!)}{Modifiers(p.GetMethod ?? p.SetMethod!)}{Name(p.PropertyType, nullability.Create(p))} {p.Name} {{ {(IsVisible(p.GetMethod) ? "get; " : string.Empty)}{(IsVisible(p.SetMethod) ? "set; " : string.Empty)}}}"));
            members.AddRange(type.GetMethods(Declared).Where(m => IsVisible(m) && !m.IsSpecialName).Select(m =>
                $"{Access(m)}{Modifiers(m)}{Name(m.ReturnType, nullability.Create(m.ReturnParameter))} {m.Name}({Parameters(m, nullability)})"));
            foreach (var member in members.Order(StringComparer.Ordinal))
            {
                text.Append("    ").Append(member).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string TypeHeader(Type type)
    {
        var kind = type.IsEnum ? "enum" : type.IsValueType ? "struct" : type.IsInterface ? "interface" : "class";
        var modifiers = type.IsClass && type.IsAbstract && type.IsSealed ? "static " : type.IsClass && type.IsAbstract ? "abstract " : type.IsClass && type.IsSealed ? "sealed " : string.Empty;
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType) && baseType != typeof(Enum))
        {
            bases.Add(Name(baseType));
        }

        bases.AddRange(type.GetInterfaces().Select(i => Name(i)).Order(StringComparer.Ordinal));
        return $"public {modifiers}{kind} {type.FullName}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : string.Empty)}";
    }

    private static bool IsVisible(MethodBase? method) => method is not null && (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly);

    private static string Access(MethodBase method) => method.IsPublic ? "public " : "protected ";

    private static string Modifiers(MethodInfo method) =>
        method.IsStatic ? "static " :
        method.IsAbstract ? "abstract " :
        method.GetBaseDefinition() != method ? "override " :
        method.IsVirtual && !method.IsFinal ? "virtual " : string.Empty;

    private static string Parameters(MethodBase method, NullabilityInfoContext nullability) =>
        string.Join(", ", method.GetParameters().Select(p =>
            $"{(p.IsDefined(typeof(ParamArrayAttribute)) ? "params " : string.Empty)}{Name(p.ParameterType, nullability.Create(p))} {p.Name}{Default(p)}"));

    private static string Default(ParameterInfo parameter) => !parameter.HasDefaultValue ? string.Empty : parameter.DefaultValue switch
    {
        null => parameter.ParameterType.IsValueType && Nullable.GetUnderlyingType(parameter.ParameterType) is null ? " = default" : " = null",
        string s => $" = \"{s}\"",
        bool b => b ? " = true" : " = false",
        var value => $" = {value}",
    };

    private static string Name(Type type, NullabilityInfo? nullability = null)
    {
        var suffix = nullability?.ReadState == NullabilityState.Nullable && !type.IsValueType ? "?" : string.Empty;
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Name(underlying) + "?";
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!, nullability?.ElementType) + "[]" + suffix;
        }

        var keyword = Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => "bool",
            TypeCode.Int32 => "int",
            TypeCode.Int64 => "long",
            TypeCode.Double => "double",
            TypeCode.String => "string",
            _ => type == typeof(void) ? "void" : type == typeof(object) ? "object" : null,
        };
        if (keyword is not null)
        {
            return keyword + suffix;
        }

        if (!type.IsGenericType)
        {
            return type.Name + suffix;
        }

        var arguments = type.GetGenericArguments();
        var names = arguments.Select((argument, i) => Name(argument, nullability?.GenericTypeArguments.ElementAtOrDefault(i)));
        return $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", names)}>{suffix}";
    }
}
