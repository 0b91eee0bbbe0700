//! Env parameters from TOML values and from `KEY=VALUE` command-line arguments.

use anyhow::{Context, Result, bail};
use qlab_envs::{ParamValue, Params};

/// Converts a TOML value into an env parameter value; `key` names it in errors.
pub fn param_value(key: &str, value: &toml::Value) -> Result<ParamValue> {
    Ok(match value {
        toml::Value::Boolean(b) => ParamValue::Bool(*b),
        toml::Value::Integer(i) => ParamValue::Int(*i),
        toml::Value::Float(x) => ParamValue::Float(*x),
        toml::Value::String(s) => ParamValue::Str(s.clone()),
        toml::Value::Array(items) => ParamValue::List(
            items
                .iter()
                .map(|v| param_value(key, v))
                .collect::<Result<_>>()?,
        ),
        other => bail!(
            "parameter `{key}`: a {} is not allowed; use a boolean, number, string or list",
            other.type_str()
        ),
    })
}

/// Parses `KEY=VALUE` arguments into [`Params`].
///
/// `VALUE` is read as a TOML value (`true`, `0.5`, `"text"`, `[0, 1, 2]`); anything that is not
/// valid TOML is taken as a plain string, so `kinematics_integrator=semi_implicit_euler` works
/// without quotes.
pub fn parse_params<S: AsRef<str>>(args: &[S]) -> Result<Params> {
    let mut params = Params::new();
    for arg in args {
        let arg = arg.as_ref();
        let (key, raw) = arg
            .split_once('=')
            .with_context(|| format!("--param `{arg}`: expected KEY=VALUE"))?;
        let key = key.trim();
        if key.is_empty() {
            bail!("--param `{arg}`: the key is empty");
        }
        let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
            Ok(table) => param_value(key, &table["v"])?,
            Err(_) => ParamValue::Str(raw.to_string()),
        };
        params.set(key, value);
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_and_bare_words_are_strings() {
        let p = parse_params(&[
            "king_moves=true",
            "success_rate=0.5",
            "wind=[0, 1, 2]",
            "kinematics_integrator=semi_implicit_euler",
            "name=\"quoted\"",
        ])
        .unwrap();
        assert_eq!(p.bool("king_moves").unwrap(), Some(true));
        assert_eq!(p.f64("success_rate").unwrap(), Some(0.5));
        assert_eq!(p.i64_list("wind").unwrap(), Some(vec![0, 1, 2]));
        assert_eq!(
            p.str("kinematics_integrator").unwrap(),
            Some("semi_implicit_euler")
        );
        assert_eq!(p.str("name").unwrap(), Some("quoted"));
    }

    #[test]
    fn missing_equals_is_an_error() {
        let e = parse_params(&["king_moves"]).unwrap_err().to_string();
        assert_eq!(e, "--param `king_moves`: expected KEY=VALUE");
    }
}
