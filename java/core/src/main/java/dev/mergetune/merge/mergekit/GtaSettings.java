package dev.mergetune.merge.mergekit;

import java.util.List;
import java.util.Map;

/**
 * The parameters of a mergekit GTA merge, resolved per tensor as mergekit's ConfigReader.parameter does: a model's
 * own setting, else the global one, else the method's default (weight has none: it is required).
 *
 * @param global the global {@code parameters:} (method parameters and defaults of the per-model ones)
 * @param perModel each model's {@code parameters:}, in model order
 * @param source the file the settings came from, for messages
 */
public record GtaSettings(GtaMethod method, Map<String, ParameterSetting> global,
    List<Map<String, ParameterSetting>> perModel, String source) {

  public int models() {
    return perModel.size();
  }

  /** A per-model parameter of model i for tensor {@code tensor}, as a double. */
  public double tensorParameter(String name, int model, String tensor) {
    Object v = null;
    ParameterSetting own = perModel.get(model).get(name);
    if (own != null) v = own.valueFor(tensor);
    if (v == null && global.get(name) != null) v = global.get(name).valueFor(tensor);
    if (v == null) {
      Double d = method.tensorDefault(name);
      if (d == null) {
        throw new IllegalArgumentException(source + ": no '" + name + "' for model " + model + " at tensor '" + tensor
            + "' (give it in the model's parameters or the global parameters)");
      }
      return d;
    }
    return number(name, v);
  }

  public boolean flag(String name, String tensor, boolean fallback) {
    ParameterSetting s = global.get(name);
    Object v = s == null ? null : s.valueFor(tensor);
    if (v == null) return fallback;
    if (v instanceof Boolean b) return b;
    throw new IllegalArgumentException(source + ": parameter '" + name + "' must be true or false, got " + v);
  }

  public double number(String name, String tensor, double fallback) {
    ParameterSetting s = global.get(name);
    Object v = s == null ? null : s.valueFor(tensor);
    return v == null ? fallback : number(name, v);
  }

  private double number(String name, Object v) {
    if (v instanceof Number n) return n.doubleValue();
    throw new IllegalArgumentException(source + ": parameter '" + name + "' must be a number, got " + v);
  }
}
