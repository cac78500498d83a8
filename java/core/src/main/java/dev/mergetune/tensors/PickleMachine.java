package dev.mergetune.tensors;

import dev.mergetune.tensors.Pickled.Global;
import dev.mergetune.tensors.Pickled.Node;
import dev.mergetune.tensors.Pickled.PDict;
import dev.mergetune.tensors.Pickled.PList;
import dev.mergetune.tensors.Pickled.PObject;
import dev.mergetune.tensors.Pickled.Storage;
import dev.mergetune.tensors.Pickled.TensorRef;
import dev.mergetune.tensors.Pickled.Tuple;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restricted pickle interpreter for the programs inside PyTorch files (in the spirit of
 * {@code torch.load(weights_only=True)}): it runs the opcodes a state dict or TorchScript archive uses and nothing
 * else, calls nothing, and builds only plain data, containers, storage references and tensor views
 * ({@link Pickled}). Anything else is refused with the file, the entry, the opcode or GLOBAL and its offset.
 *
 * <p>Bounds: nesting depth {@link #MAX_DEPTH} (LibTorch's own unpickler recurses without one and dies on a dict
 * nested 100,000 deep), {@link #MAX_OBJECTS} values built, the memo and stack no larger. The interpreter itself is
 * a loop, never recursive, and its containers compare by identity, so no input can exhaust the Java stack.
 *
 * <p>The allow-list (read off the opcode streams of PyTorch 1.13 {@code torch.save} and {@code torch.jit.save}
 * files, the clip-tiny fixture's, and of LibTorch 2.10's {@code pickle_save} and {@code Module::save}):
 * {@code torch._utils._rebuild_tensor_v2}, {@code torch._utils._rebuild_parameter}, {@code collections.OrderedDict},
 * the {@code torch.<Type>Storage} classes (as persistent-id tags only), the {@code torch.jit._pickle} list builders
 * and {@code restore_type_tag} (identity functions on already-built data), and, in TorchScript archives only,
 * {@code __torch__.…} classes, which are instantiated as inert records ({@link PObject}) and never run.
 */
final class PickleMachine {
  static final int MAX_DEPTH = 1000;
  static final int MAX_OBJECTS = 5_000_000;

  private static final Map<String, DType> STORAGES = Map.ofEntries(
      Map.entry("DoubleStorage", DType.F64), Map.entry("FloatStorage", DType.F32), Map.entry("HalfStorage", DType.F16),
      Map.entry("BFloat16Storage", DType.BF16), Map.entry("LongStorage", DType.I64), Map.entry("IntStorage", DType.I32),
      Map.entry("ShortStorage", DType.I16), Map.entry("CharStorage", DType.I8), Map.entry("ByteStorage", DType.U8),
      Map.entry("BoolStorage", DType.BOOL));
  private static final Set<String> FUNCTIONS = Set.of("torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter", "collections.OrderedDict", "torch.jit._pickle.build_intlist",
      "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist", "torch.jit._pickle.build_tensorlist",
      "torch.jit._pickle.build_strlist", "torch.jit._pickle.restore_type_tag");
  private static final Object MARK = new Object();

  private final Path file;
  private final String entry;
  private final byte[] code;
  private final boolean torchScriptClasses;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();
  private int pos;
  private int opStart;
  private long objects;

  private PickleMachine(Path file, String entry, byte[] code, boolean torchScriptClasses) {
    this.file = file;
    this.entry = entry;
    this.code = code;
    this.torchScriptClasses = torchScriptClasses;
  }

  /**
   * Runs the pickle program {@code code} (zip entry {@code entry} of {@code file}) and returns its value;
   * {@code torchScriptClasses} allows {@code __torch__.…} classes (TorchScript archives).
   */
  static Object run(Path file, String entry, byte[] code, boolean torchScriptClasses) {
    return new PickleMachine(file, entry, code, torchScriptClasses).execute();
  }

  private Object execute() {
    while (true) {
      if (pos >= code.length) throw refuse("the pickle program ends without STOP (truncated?)");
      opStart = pos;
      int op = code[pos++] & 0xff;
      switch (op) {
        case 0x80 -> { // PROTO
          int v = u8();
          if (v < 2 || v > 5) throw refuse("pickle protocol " + v + " is not one PyTorch writes (2 to 5)");
        }
        case 0x95 -> skip(8); // FRAME: a length hint only
        case '.' -> { // STOP
          if (stack.size() != 1 || !marks.isEmpty()) throw refuse("STOP with " + stack.size() + " values on the stack");
          return stack.get(0);
        }
        case '(' -> {
          marks.add(stack.size());
          stack.add(MARK);
        }
        case '0' -> pop();
        case '1' -> popMark();
        case '2' -> push(peek());
        case 'N' -> push(Pickled.NONE);
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'J' -> push((long) le(4));
        case 'K' -> push((long) u8());
        case 'M' -> push((long) (le(2) & 0xffff));
        case 0x8a -> push(longOf(u8()));
        case 0x8b -> push(longOf(checkedLength(le(4))));
        case 'G' -> push(Double.longBitsToDouble(be8()));
        case 'X' -> push(text(checkedLength(le(4)), StandardCharsets.UTF_8));
        case 0x8c -> push(text(u8(), StandardCharsets.UTF_8));
        case 0x8d -> push(text(checkedLength(le8()), StandardCharsets.UTF_8));
        case 'U' -> push(text(u8(), StandardCharsets.ISO_8859_1));
        case 'T' -> push(text(checkedLength(le(4)), StandardCharsets.ISO_8859_1));
        case 'C' -> push(bytes(u8()));
        case 'B' -> push(bytes(checkedLength(le(4))));
        case 0x8e -> push(bytes(checkedLength(le8())));
        case '}' -> push(new PDict());
        case ']' -> push(new PList());
        case ')' -> push(new Tuple(List.of()));
        case 't' -> push(tuple(popMark()));
        case 0x85 -> push(tuple(List.of(pop())));
        case 0x86 -> {
          Object b = pop();
          push(tuple(List.of(pop(), b)));
        }
        case 0x87 -> {
          Object c = pop();
          Object b = pop();
          push(tuple(List.of(pop(), b, c)));
        }
        case 'l' -> {
          PList l = new PList();
          for (Object o : popMark()) append(l, o);
          push(l);
        }
        case 'd' -> push(setItems(new PDict(), popMark()));
        case 'a' -> {
          Object v = pop();
          append(list(peek()), v);
        }
        case 'e' -> {
          List<Object> items = popMark();
          PList l = list(peek());
          for (Object o : items) append(l, o);
        }
        case 's' -> {
          Object v = pop();
          Object k = pop();
          setItems(dict(peek()), List.of(k, v));
        }
        case 'u' -> {
          List<Object> items = popMark();
          setItems(dict(peek()), items);
        }
        case 'q' -> memoPut(u8());
        case 'r' -> memoPut(le(4) & 0xffffffffL);
        case 0x94 -> memoPut(memo.size());
        case 'h' -> memoGet(u8());
        case 'j' -> memoGet(le(4) & 0xffffffffL);
        case 'c' -> push(global(line(), line()));
        case 0x93 -> {
          Object name = pop();
          Object module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) throw refuse("STACK_GLOBAL of non-strings");
          push(global(m, n));
        }
        case 'R' -> {
          Object args = pop();
          Object callable = pop();
          push(reduce(callable, args));
        }
        case 0x81 -> { // NEWOBJ
          Object args = pop();
          Object cls = pop();
          if (!(cls instanceof Global g) || !g.module().startsWith("__torch__")
              || !(args instanceof Tuple t) || !t.items.isEmpty()) {
            throw refuse("NEWOBJ of " + Pickled.kind(cls) + " (only TorchScript classes with no arguments)");
          }
          push(new PObject(g.qualified()));
        }
        case 'b' -> { // BUILD
          Object state = pop();
          Object target = peek();
          if (!(target instanceof PObject o)) throw refuse("BUILD on " + Pickled.kind(target) + " (only TorchScript objects)");
          if (o.state != Pickled.NONE) throw refuse("BUILD twice on one " + o.className);
          o.state = state;
          o.depth = depthAbove(Pickled.depth(state));
        }
        case 'Q' -> push(persistent(pop()));
        default -> throw refuse(String.format("opcode 0x%02x%s is not allowed in a PyTorch checkpoint", op,
            op >= 0x20 && op < 0x7f ? " ('" + (char) op + "')" : ""));
      }
    }
  }

  private Object global(String module, String name) {
    String q = module + "." + name;
    // any torch.<T>Storage is an inert tag here; the persistent id refuses the types without a safetensors twin
    if (module.equals("torch") && name.matches("\\w{1,40}Storage")) return new Global(module, name);
    if (FUNCTIONS.contains(q)) return new Global(module, name);
    if (torchScriptClasses && (module.equals("__torch__") || module.startsWith("__torch__."))) return new Global(module, name);
    throw refuse("GLOBAL '" + q + "' is not on the allow-list (a checkpoint may name only tensor rebuilders, storage "
        + "types, OrderedDict" + (torchScriptClasses ? " and TorchScript classes" : "") + "; nothing it names is ever run)");
  }

  private Object reduce(Object callable, Object args) {
    if (!(callable instanceof Global g) || !(args instanceof Tuple t)) {
      throw refuse("REDUCE of " + Pickled.kind(callable) + " (only allow-listed functions may be called)");
    }
    List<Object> a = t.items;
    switch (g.qualified()) {
      case "collections.OrderedDict" -> {
        if (!a.isEmpty()) throw refuse("OrderedDict called with arguments");
        return new PDict();
      }
      case "torch._utils._rebuild_tensor_v2" -> {
        if (a.size() < 6 || a.size() > 7 || !(a.get(0) instanceof Storage s) || !(a.get(1) instanceof Long offset)) {
          throw refuse("_rebuild_tensor_v2 called with unexpected arguments");
        }
        long[] size = longs(a.get(2), "size");
        long[] stride = longs(a.get(3), "stride");
        if (size.length != stride.length) throw refuse("tensor size " + size.length + "-d but stride " + stride.length + "-d");
        if (!(a.get(4) instanceof Boolean)) throw refuse("_rebuild_tensor_v2's requires_grad is not a bool");
        if (!(a.get(5) instanceof PDict hooks) || !hooks.map.isEmpty()) {
          throw refuse("_rebuild_tensor_v2 with backward hooks (never part of a state dict)");
        }
        return new TensorRef(s, offset, size, stride);
      }
      case "torch._utils._rebuild_parameter" -> {
        if (a.size() != 3 || !(a.get(0) instanceof TensorRef tensor)) throw refuse("_rebuild_parameter of a non-tensor");
        return tensor;
      }
      case "torch.jit._pickle.restore_type_tag" -> {
        if (a.size() != 2) throw refuse("restore_type_tag with " + a.size() + " arguments");
        return a.get(0);
      }
      default -> {
        if (g.qualified().startsWith("torch.jit._pickle.build_") && a.size() == 1 && a.get(0) instanceof PList l) return l;
        throw refuse("REDUCE of " + g.qualified() + " with these arguments is not allowed");
      }
    }
  }

  /** ('storage', torch.XStorage, key, location, numel) as a storage reference. */
  private Storage persistent(Object pid) {
    if (!(pid instanceof Tuple t) || t.items.size() != 5 || !"storage".equals(t.items.get(0))
        || !(t.items.get(1) instanceof Global type) || !(t.items.get(2) instanceof String key)
        || !(t.items.get(3) instanceof String) || !(t.items.get(4) instanceof Long numel)) {
      throw refuse("persistent id is not ('storage', type, key, location, numel)");
    }
    DType dtype = type.module().equals("torch") ? STORAGES.get(type.name()) : null;
    if (dtype == null) {
      throw refuse("storage type " + type.qualified() + " is not supported (supported: " + String.join(", ",
          new java.util.TreeSet<>(STORAGES.keySet())) + ")");
    }
    if (numel < 0) throw refuse("storage '" + key + "' has a negative size " + numel);
    if (!key.matches("[0-9A-Za-z_]{1,64}")) throw refuse("storage key '" + abbreviate(key) + "' is not a record name");
    return new Storage(dtype, key, numel);
  }

  private long[] longs(Object v, String what) {
    if (!(v instanceof Tuple t) || t.items.size() > 64) throw refuse("tensor " + what + " is not a tuple of at most 64 ints");
    long[] out = new long[t.items.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(t.items.get(i) instanceof Long l)) throw refuse("tensor " + what + " holds a " + Pickled.kind(t.items.get(i)));
      out[i] = l;
    }
    return out;
  }

  private Tuple tuple(List<Object> items) {
    Tuple t = new Tuple(items);
    int d = 0;
    for (Object o : items) d = Math.max(d, Pickled.depth(o));
    t.depth = depthAbove(d);
    return t;
  }

  private void append(PList l, Object v) {
    count();
    l.items.add(v);
    l.depth = Math.max(l.depth, depthAbove(Pickled.depth(v)));
  }

  private PDict setItems(PDict d, List<Object> kv) {
    if (kv.size() % 2 != 0) throw refuse("SETITEMS with an odd number of values");
    for (int i = 0; i < kv.size(); i += 2) {
      Object k = kv.get(i);
      if (!(k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Double || k == Pickled.NONE)) {
        throw refuse("a dict key is a " + Pickled.kind(k) + " (only strings and numbers)");
      }
      count();
      d.map.put(k, kv.get(i + 1));
      d.depth = Math.max(d.depth, depthAbove(Pickled.depth(kv.get(i + 1))));
    }
    return d;
  }

  private int depthAbove(int childDepth) {
    if (childDepth >= MAX_DEPTH) {
      throw refuse("values nest more than " + MAX_DEPTH + " deep (a state dict nests a few levels)");
    }
    return childDepth + 1;
  }

  private PList list(Object v) {
    if (v instanceof PList l) return l;
    throw refuse("APPEND to a " + Pickled.kind(v));
  }

  private PDict dict(Object v) {
    if (v instanceof PDict d) return d;
    throw refuse("SETITEM on a " + Pickled.kind(v));
  }

  private void memoPut(long index) {
    if (memo.size() >= MAX_OBJECTS) throw refuse("memo grows past " + MAX_OBJECTS + " entries");
    memo.put(index, peek());
  }

  private void memoGet(long index) {
    Object v = memo.get(index);
    if (v == null) throw refuse("memo entry " + index + " is read before it is written");
    push(v);
  }

  private void push(Object v) {
    count();
    stack.add(v);
  }

  private void count() {
    if (++objects > MAX_OBJECTS) throw refuse("builds more than " + MAX_OBJECTS + " values");
  }

  private Object pop() {
    if (stack.isEmpty()) throw refuse("pops an empty stack");
    Object v = stack.remove(stack.size() - 1);
    if (v == MARK) throw refuse("pops a MARK as a value");
    return v;
  }

  private Object peek() {
    if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) throw refuse("reads an empty stack");
    return stack.get(stack.size() - 1);
  }

  private List<Object> popMark() {
    if (marks.isEmpty()) throw refuse("has no MARK to pop to");
    int at = marks.remove(marks.size() - 1);
    List<Object> items = new ArrayList<>(stack.subList(at + 1, stack.size()));
    stack.subList(at, stack.size()).clear();
    for (Object o : items) if (o == MARK) throw refuse("a MARK inside marked items");
    return items;
  }

  private Long longOf(int n) {
    if (n > 8) throw refuse("an integer of " + n + " bytes (at most 8 here)");
    need(n);
    long v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | (code[pos + i] & 0xff);
    if (n > 0 && n < 8 && (code[pos + n - 1] & 0x80) != 0) v |= -1L << (8 * n);  // sign-extend
    pos += n;
    return v;
  }

  private int checkedLength(long n) {
    if (n < 0 || n > code.length - pos) throw refuse("a length of " + n + " runs past the end of the pickle");
    return (int) n;
  }

  private String text(int n, java.nio.charset.Charset cs) {
    need(n);
    String s = new String(code, pos, n, cs);
    pos += n;
    return s;
  }

  private byte[] bytes(int n) {
    need(n);
    byte[] b = java.util.Arrays.copyOfRange(code, pos, pos + n);
    pos += n;
    return b;
  }

  private String line() {
    int start = pos;
    while (pos < code.length && code[pos] != '\n') {
      if (pos - start > 256) throw refuse("a GLOBAL name longer than 256 bytes");
      pos++;
    }
    if (pos >= code.length) throw refuse("a GLOBAL name runs past the end of the pickle");
    return new String(code, start, pos++ - start, StandardCharsets.UTF_8);
  }

  private int u8() {
    need(1);
    return code[pos++] & 0xff;
  }

  private int le(int n) {
    need(n);
    int v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | (code[pos + i] & 0xff);
    pos += n;
    return v;
  }

  private long le8() {
    need(8);
    long v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | (code[pos + i] & 0xff);
    pos += 8;
    return v;
  }

  private long be8() {
    need(8);
    long v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | (code[pos + i] & 0xff);
    pos += 8;
    return v;
  }

  private void skip(int n) {
    need(n);
    pos += n;
  }

  private void need(int n) {
    if (n > code.length - pos) throw refuse("the pickle program is cut short (truncated or corrupt?)");
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }

  private CheckpointFormatException refuse(String why) {
    return new CheckpointFormatException(file, entry + " at offset " + opStart + ": " + why.replace('\n', ' '));
  }
}
