using System.Reflection;
using System.Reflection.Emit;

namespace CvmControl.Tests.Architecture;

/// <summary>
/// Every type one compiled type uses: its base type and interfaces, attributes, member signatures,
/// locals, and every type, method and field token in its IL. Reading the compiled assembly rather
/// than the source catches what the Web SDK's implicit usings and the source generators hide
/// (the JSON context's generated code, [LoggerMessage] partials, closures and state machines).
/// What leaves no trace in IL (a <c>const</c> folded into a literal, <c>nameof</c>) is not seen.
/// </summary>
internal static class TypeReferences
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>The types <paramref name="type"/> itself uses (nested types are walked on their own), unwrapped from arrays and generics.</summary>
    public static IReadOnlySet<Type> Of(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t) => Unwrap(t, found);

        Add(type.BaseType);
        foreach (var i in type.GetInterfaces())
        {
            Add(i);
        }
        AddAttributes(type.CustomAttributes, found);
        foreach (var field in type.GetFields(Declared))
        {
            Add(field.FieldType);
            AddAttributes(field.CustomAttributes, found);
        }
        foreach (var property in type.GetProperties(Declared))
        {
            Add(property.PropertyType);
            AddAttributes(property.CustomAttributes, found);
        }
        foreach (var e in type.GetEvents(Declared))
        {
            Add(e.EventHandlerType);
        }
        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (method is MethodInfo info)
            {
                Add(info.ReturnType);
                foreach (var argument in info.GetGenericArguments())
                {
                    foreach (var constraint in argument.GetGenericParameterConstraints())
                    {
                        Add(constraint);
                    }
                }
            }
            foreach (var parameter in method.GetParameters())
            {
                Add(parameter.ParameterType);
                AddAttributes(parameter.CustomAttributes, found);
            }
            AddAttributes(method.CustomAttributes, found);
            var body = method.GetMethodBody();
            if (body is null)
            {
                continue;
            }
            foreach (var local in body.LocalVariables)
            {
                Add(local.LocalType);
            }
            foreach (var used in TokensIn(method, body.GetILAsByteArray() ?? []))
            {
                Add(used);
            }
        }
        return found;
    }

    private static void AddAttributes(IEnumerable<CustomAttributeData> attributes, HashSet<Type> found)
    {
        foreach (var attribute in attributes)
        {
            Unwrap(attribute.AttributeType, found);
            foreach (var argument in attribute.ConstructorArguments.Concat(attribute.NamedArguments.Select(n => n.TypedValue)))
            {
                if (argument.Value is Type typeArgument)
                {
                    Unwrap(typeArgument, found);
                }
            }
        }
    }

    /// <summary>The declaring types of the members, and the types, that the IL's tokens name.</summary>
    private static IEnumerable<Type> TokensIn(MethodBase method, byte[] il)
    {
        var module = method.Module;
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            OpCode op;
            if (il[i] == 0xFE)
            {
                op = OpCodesByValue[unchecked((short)(0xFE00 | il[i + 1]))];
                i += 2;
            }
            else
            {
                op = OpCodesByValue[il[i]];
                i += 1;
            }
            switch (op.OperandType)
            {
                case OperandType.InlineType:
                case OperandType.InlineTok:
                case OperandType.InlineMethod:
                case OperandType.InlineField:
                    {
                        var token = BitConverter.ToInt32(il, i);
                        var member = module.ResolveMember(token, typeArguments, methodArguments);
                        switch (member)
                        {
                            case Type t:
                                yield return t;
                                break;
                            case MethodBase m:
                                yield return m.DeclaringType!;
                                if (m is MethodInfo mi)
                                {
                                    yield return mi.ReturnType;
                                    foreach (var g in mi.IsGenericMethod ? mi.GetGenericArguments() : [])
                                    {
                                        yield return g;
                                    }
                                }
                                foreach (var p in m.GetParameters())
                                {
                                    yield return p.ParameterType;
                                }
                                break;
                            case FieldInfo f:
                                yield return f.DeclaringType!;
                                yield return f.FieldType;
                                break;
                        }
                        i += 4;
                        break;
                    }
                case OperandType.InlineSwitch:
                    i += 4 + (4 * BitConverter.ToInt32(il, i));
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    i += 8;
                    break;
                default: // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
                    i += 4;
                    break;
            }
        }
    }

    private static void Unwrap(Type? type, HashSet<Type> found)
    {
        while (type is not null && (type.HasElementType))
        {
            type = type.GetElementType();
        }
        if (type is null || type.IsGenericParameter)
        {
            return;
        }
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                Unwrap(argument, found);
            }
            type = type.GetGenericTypeDefinition();
        }
        found.Add(type);
    }
}
