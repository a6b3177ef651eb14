using System;
using System.Collections;
using System.Collections.Generic;

namespace LossDsl.Generators.Model;

/// <summary>
/// A read-only dictionary by ordinal string keys with value equality: equal when it holds equal
/// values under the same keys, added in the same order (its enumeration order), so that a
/// description holding it compares by content and the formula step can be cached.
/// </summary>
internal sealed class EquatableMap<TValue> : IReadOnlyDictionary<string, TValue>, IEquatable<EquatableMap<TValue>>
    where TValue : IEquatable<TValue>
{
    private readonly Dictionary<string, TValue> _items;
    private readonly List<string> _order;

    public EquatableMap(IEnumerable<KeyValuePair<string, TValue>> items)
    {
        _items = new Dictionary<string, TValue>(StringComparer.Ordinal);
        _order = new List<string>();
        foreach (KeyValuePair<string, TValue> item in items)
        {
            _items.Add(item.Key, item.Value);
            _order.Add(item.Key);
        }
    }

    public int Count => _order.Count;

    public TValue this[string key] => _items[key];

    public IEnumerable<string> Keys => _order;

    public IEnumerable<TValue> Values
    {
        get
        {
            foreach (string key in _order)
            {
                yield return _items[key];
            }
        }
    }

    public bool ContainsKey(string key) => _items.ContainsKey(key);

    public bool TryGetValue(string key, out TValue value) => _items.TryGetValue(key, out value!);

    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator()
    {
        foreach (string key in _order)
        {
            yield return new KeyValuePair<string, TValue>(key, _items[key]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(EquatableMap<TValue>? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }
        if (other is null || other.Count != Count)
        {
            return false;
        }
        for (int i = 0; i < _order.Count; i++)
        {
            string key = _order[i];
            if (!string.Equals(key, other._order[i], StringComparison.Ordinal) || !EqualityComparer<TValue>.Default.Equals(_items[key], other._items[key]))
            {
                return false;
            }
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is EquatableMap<TValue> other && Equals(other);

    public override int GetHashCode()
    {
        int hash = 17;
        foreach (string key in _order)
        {
            hash = unchecked((hash * 31) + StringComparer.Ordinal.GetHashCode(key));
        }
        return hash;
    }
}
