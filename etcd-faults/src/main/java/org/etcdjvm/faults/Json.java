package org.etcdjvm.faults;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough JSON for the v1 API's answers: objects (as {@link Map}), arrays ({@link List}),
 * strings, integers ({@link Long}), booleans and null. Anything else is an {@link IllegalArgumentException}.
 */
final class Json {
  private final String s;
  private int i;

  private Json(String s) {
    this.s = s;
  }

  static Object parse(String text) {
    Json p = new Json(text);
    p.ws();
    Object v = p.value();
    p.ws();
    if (p.i != text.length()) {
      throw new IllegalArgumentException("trailing characters at " + p.i + " in " + abbreviate(text));
    }
    return v;
  }

  /** The object in {@code text}, or null when it is not a JSON object. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> object(String text) {
    try {
      Object v = parse(text.trim());
      return v instanceof Map ? (Map<String, Object>) v : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The array in {@code text}, or null when it is not a JSON array. */
  @SuppressWarnings("unchecked")
  static List<Object> array(String text) {
    try {
      Object v = parse(text.trim());
      return v instanceof List ? (List<Object>) v : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static String abbreviate(String text) {
    return text.length() > 200 ? text.substring(0, 200) + "..." : text;
  }

  private Object value() {
    if (i >= s.length()) {
      throw new IllegalArgumentException("unexpected end");
    }
    char c = s.charAt(i);
    switch (c) {
      case '{':
        return obj();
      case '[':
        return arr();
      case '"':
        return str();
      case 't':
        expect("true");
        return Boolean.TRUE;
      case 'f':
        expect("false");
        return Boolean.FALSE;
      case 'n':
        expect("null");
        return null;
      default:
        return num();
    }
  }

  private Map<String, Object> obj() {
    Map<String, Object> m = new LinkedHashMap<>();
    i++;
    ws();
    if (peek() == '}') {
      i++;
      return m;
    }
    while (true) {
      ws();
      String k = str();
      ws();
      if (peek() != ':') {
        throw new IllegalArgumentException("':' expected at " + i);
      }
      i++;
      ws();
      m.put(k, value());
      ws();
      char c = peek();
      i++;
      if (c == '}') {
        return m;
      }
      if (c != ',') {
        throw new IllegalArgumentException("',' or '}' expected at " + (i - 1));
      }
    }
  }

  private List<Object> arr() {
    List<Object> l = new ArrayList<>();
    i++;
    ws();
    if (peek() == ']') {
      i++;
      return l;
    }
    while (true) {
      ws();
      l.add(value());
      ws();
      char c = peek();
      i++;
      if (c == ']') {
        return l;
      }
      if (c != ',') {
        throw new IllegalArgumentException("',' or ']' expected at " + (i - 1));
      }
    }
  }

  private String str() {
    if (peek() != '"') {
      throw new IllegalArgumentException("string expected at " + i);
    }
    i++;
    StringBuilder b = new StringBuilder();
    while (true) {
      if (i >= s.length()) {
        throw new IllegalArgumentException("unterminated string");
      }
      char c = s.charAt(i++);
      if (c == '"') {
        return b.toString();
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      char e = s.charAt(i++);
      switch (e) {
        case 'n' -> b.append('\n');
        case 't' -> b.append('\t');
        case 'r' -> b.append('\r');
        case 'b' -> b.append('\b');
        case 'f' -> b.append('\f');
        case 'u' -> {
          b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          i += 4;
        }
        default -> b.append(e);
      }
    }
  }

  private Long num() {
    int start = i;
    if (peek() == '-') {
      i++;
    }
    while (i < s.length() && Character.isDigit(s.charAt(i))) {
      i++;
    }
    if (start == i) {
      throw new IllegalArgumentException("value expected at " + i);
    }
    return Long.parseLong(s.substring(start, i));
  }

  private void expect(String word) {
    if (!s.startsWith(word, i)) {
      throw new IllegalArgumentException(word + " expected at " + i);
    }
    i += word.length();
  }

  private char peek() {
    if (i >= s.length()) {
      throw new IllegalArgumentException("unexpected end");
    }
    return s.charAt(i);
  }

  private void ws() {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
  }
}
