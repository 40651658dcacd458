//! Values as tiberius reads them off the wire: their size, and each as a
//! [`Value`].

use super::*;

/// The bytes one value took on the wire (text and binary by length, others as 8).
pub(super) fn size(data: &ColumnData<'static>) -> usize {
    match data {
        ColumnData::String(Some(s)) => s.len(),
        ColumnData::Binary(Some(b)) => b.len(),
        ColumnData::Xml(Some(x)) => x.to_string().len(),
        _ => 8,
    }
}

/// One value, by its TDS type.
pub(super) fn decode(data: &ColumnData<'static>) -> Value {
    fn chrono_value<'a, T: FromSql<'a>>(
        data: &'a ColumnData<'static>,
        f: impl Fn(T) -> Value,
    ) -> Value {
        match T::from_sql(data) {
            Ok(Some(v)) => f(v),
            Ok(None) => Value::Null,
            Err(e) => engine::unreadable("datetime", e),
        }
    }
    match data {
        ColumnData::U8(v) => v.map_or(Value::Null, |v| Value::Int(v.into())),
        ColumnData::I16(v) => v.map_or(Value::Null, |v| Value::Int(v.into())),
        ColumnData::I32(v) => v.map_or(Value::Null, |v| Value::Int(v.into())),
        ColumnData::I64(v) => v.map_or(Value::Null, Value::Int),
        ColumnData::F32(v) => v.map_or(Value::Null, |v| Value::Float(v.into())),
        ColumnData::F64(v) => v.map_or(Value::Null, Value::Float),
        ColumnData::Bit(v) => v.map_or(Value::Null, Value::Bool),
        ColumnData::String(v) => v.as_ref().map_or(Value::Null, |s| Value::text(s.as_ref())),
        ColumnData::Guid(v) => v.map_or(Value::Null, |g| Value::text(g.to_string())),
        ColumnData::Binary(v) => v.as_ref().map_or(Value::Null, |b| Value::binary(b)),
        ColumnData::Numeric(v) => v.map_or(Value::Null, |n| Value::Decimal(n.to_string())),
        ColumnData::Xml(v) => v
            .as_ref()
            .map_or(Value::Null, |x| Value::text(x.to_string())),
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) | ColumnData::DateTime2(_) => {
            chrono_value(data, |v: chrono::NaiveDateTime| {
                Value::Timestamp(format::datetime(v))
            })
        }
        ColumnData::Date(_) => {
            chrono_value(data, |v: chrono::NaiveDate| Value::Date(format::date(v)))
        }
        ColumnData::Time(_) => {
            chrono_value(data, |v: chrono::NaiveTime| Value::Time(format::time(v)))
        }
        ColumnData::DateTimeOffset(_) => {
            chrono_value(data, |v: chrono::DateTime<chrono::FixedOffset>| {
                Value::Timestamp(format::datetime_offset(v))
            })
        }
    }
}
