//! Typed access to node attributes.

use crate::proto::attribute_proto::AttributeType;
use crate::proto::{AttributeProto, NodeProto};
use crate::{tensor_from_proto, OnnxError, Tensor};

/// Typed attribute access for a node; errors name node, op and attribute.
///
/// Every getter returns `Ok(None)` when the attribute is absent and an
/// [`OnnxError::Attribute`] when it is present but has another type, appears
/// more than once, is a function-attribute reference (`ref_attr_name`), or
/// holds an undecodable value. No getter converts between types (an INT is not
/// a FLOAT, an INTS is not an INT).
#[derive(Clone, Copy, Debug)]
pub struct Attrs<'a> {
    node: &'a NodeProto,
}

impl<'a> Attrs<'a> {
    /// Attribute accessor for `node`.
    pub fn new(node: &'a NodeProto) -> Self {
        Attrs { node }
    }

    /// The node these attributes belong to.
    pub fn node(&self) -> &'a NodeProto {
        self.node
    }

    /// Names of all attributes present, in file order.
    pub fn names(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.node
            .attribute
            .iter()
            .map(|a| a.name.as_deref().unwrap_or(""))
    }

    /// An INT attribute.
    pub fn int(&self, name: &str) -> Result<Option<i64>, OnnxError> {
        Ok(self
            .get(name, AttributeType::Int)?
            .map(|a| a.i.unwrap_or(0)))
    }

    /// An INT attribute, or `default` if absent.
    pub fn int_or(&self, name: &str, default: i64) -> Result<i64, OnnxError> {
        Ok(self.int(name)?.unwrap_or(default))
    }

    /// An INTS attribute.
    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, OnnxError> {
        Ok(self.get(name, AttributeType::Ints)?.map(|a| a.ints.clone()))
    }

    /// A FLOAT attribute. NaN is refused here, for every op: no ONNX attribute means anything
    /// by it, and the model file rejects NaN parameters at load.
    pub fn float(&self, name: &str) -> Result<Option<f32>, OnnxError> {
        let v = self
            .get(name, AttributeType::Float)?
            .map(|a| a.f.unwrap_or(0.0));
        if v.is_some_and(f32::is_nan) {
            return Err(self.err(name, "NaN is not a value this attribute can take"));
        }
        Ok(v)
    }

    /// A FLOAT attribute, or `default` if absent.
    pub fn float_or(&self, name: &str, default: f32) -> Result<f32, OnnxError> {
        Ok(self.float(name)?.unwrap_or(default))
    }

    /// A FLOATS attribute (NaN refused, as for [`Self::float`]).
    pub fn floats(&self, name: &str) -> Result<Option<Vec<f32>>, OnnxError> {
        let v = self
            .get(name, AttributeType::Floats)?
            .map(|a| a.floats.clone());
        if v.as_ref().is_some_and(|v| v.iter().any(|x| x.is_nan())) {
            return Err(self.err(name, "NaN is not a value this attribute can take"));
        }
        Ok(v)
    }

    /// A STRING attribute (must be valid UTF-8).
    pub fn string(&self, name: &str) -> Result<Option<String>, OnnxError> {
        let Some(a) = self.get(name, AttributeType::String)? else {
            return Ok(None);
        };
        let bytes = a.s.as_deref().unwrap_or(&[]);
        std::str::from_utf8(bytes)
            .map(|s| Some(s.to_string()))
            .map_err(|e| self.err(name, format!("STRING value is not valid UTF-8: {e}")))
    }

    /// A STRING attribute, or `default` if absent.
    pub fn string_or(&self, name: &str, default: &str) -> Result<String, OnnxError> {
        Ok(self.string(name)?.unwrap_or_else(|| default.to_string()))
    }

    /// A STRINGS attribute (each must be valid UTF-8).
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, OnnxError> {
        let Some(a) = self.get(name, AttributeType::Strings)? else {
            return Ok(None);
        };
        a.strings
            .iter()
            .map(|b| {
                std::str::from_utf8(b)
                    .map(str::to_string)
                    .map_err(|e| self.err(name, format!("STRINGS value is not valid UTF-8: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A TENSOR attribute, decoded with [`tensor_from_proto`].
    pub fn tensor(&self, name: &str) -> Result<Option<Tensor>, OnnxError> {
        let Some(a) = self.get(name, AttributeType::Tensor)? else {
            return Ok(None);
        };
        let Some(t) = a.t.as_ref() else {
            return Err(self.err(name, "TENSOR attribute has no tensor value"));
        };
        tensor_from_proto(t).map(Some).map_err(|e| match e {
            OnnxError::Tensor { msg, .. } => self.err(name, msg),
            other => self.err(name, other.to_string()),
        })
    }

    /// Find attribute `name` and check that it has type `want`.
    fn get(
        &self,
        name: &str,
        want: AttributeType,
    ) -> Result<Option<&'a AttributeProto>, OnnxError> {
        let mut found = self
            .node
            .attribute
            .iter()
            .filter(|a| a.name.as_deref() == Some(name));
        let Some(a) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(self.err(name, "appears more than once"));
        }
        if let Some(r) = a.ref_attr_name.as_deref().filter(|r| !r.is_empty()) {
            return Err(self.err(
                name,
                format!("refers to function attribute '{r}', which is only valid inside a function body"),
            ));
        }
        let have = attr_type(a);
        if have != want as i32 {
            let have_name = match AttributeType::try_from(have) {
                Ok(AttributeType::Undefined) => "no value".to_string(),
                Ok(t) => format!("a {} value", t.as_str_name()),
                Err(_) => format!("unknown attribute type code {have}"),
            };
            return Err(self.err(
                name,
                format!("expected {}, found {}", want.as_str_name(), have_name),
            ));
        }
        Ok(Some(a))
    }

    fn err(&self, attr: &str, msg: impl Into<String>) -> OnnxError {
        let n = self.node;
        let node = match n.name.as_deref() {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => match n.output.first() {
                Some(o) => format!("<unnamed, output '{o}'>"),
                None => "<unnamed>".to_string(),
            },
        };
        let op_type = n.op_type.as_deref().unwrap_or("");
        let op = match n.domain.as_deref() {
            None | Some("" | "ai.onnx") => op_type.to_string(),
            Some(d) => format!("{d}.{op_type}"),
        };
        OnnxError::Attribute {
            node,
            op,
            attr: attr.to_string(),
            msg: msg.into(),
        }
    }
}

/// The attribute's declared type, or — for pre-IR-0.0.2 files that leave
/// `type` unset — the type implied by the single value field present.
fn attr_type(a: &AttributeProto) -> i32 {
    if let Some(t) = a.r#type.filter(|&t| t != AttributeType::Undefined as i32) {
        return t;
    }
    let t = if a.f.is_some() {
        AttributeType::Float
    } else if a.i.is_some() {
        AttributeType::Int
    } else if a.s.is_some() {
        AttributeType::String
    } else if a.t.is_some() {
        AttributeType::Tensor
    } else if a.g.is_some() {
        AttributeType::Graph
    } else if a.sparse_tensor.is_some() {
        AttributeType::SparseTensor
    } else if a.tp.is_some() {
        AttributeType::TypeProto
    } else if !a.floats.is_empty() {
        AttributeType::Floats
    } else if !a.ints.is_empty() {
        AttributeType::Ints
    } else if !a.strings.is_empty() {
        AttributeType::Strings
    } else if !a.tensors.is_empty() {
        AttributeType::Tensors
    } else if !a.graphs.is_empty() {
        AttributeType::Graphs
    } else if !a.sparse_tensors.is_empty() {
        AttributeType::SparseTensors
    } else if !a.type_protos.is_empty() {
        AttributeType::TypeProtos
    } else {
        AttributeType::Undefined
    };
    t as i32
}
