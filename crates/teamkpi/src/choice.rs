//! A macro for the string-valued enums (direction, unit, period, …): one table gives the canonical
//! spelling, the accepted aliases, `FromStr`, `Display` and serde, so every binding parses the same
//! strings the same way.

macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($field:literal) {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $canonical:literal $(| $alias:literal)*
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $canonical,)+
                }
            }

            /// Parses the canonical spelling or an accepted alias (case-insensitive).
            pub fn parse(text: &str) -> $crate::error::Result<Self> {
                let lowered = text.trim().to_lowercase();
                $(
                    if lowered == $canonical $(|| lowered == $alias)* {
                        return Ok($name::$variant);
                    }
                )+
                Err($crate::error::Error::choice(
                    $field,
                    text,
                    concat!($($canonical, " "),+).trim_end(),
                ))
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(text: &str) -> $crate::error::Result<Self> {
                Self::parse(text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Self::parse(&text).map_err(|e| serde::de::Error::custom($crate::error::Coded(e)))
            }
        }
    };
}

pub(crate) use string_enum;
