//! `spelled_enum!`: an enum whose values have one spelling each, on the wire, in D1 and in
//! KV. The spelling is written once, next to its variant; the macro derives the rest:
//! serde (by that spelling), `ALL` in declaration order, `as_str`, `parse` and `Display`.
//!
//! ```
//! incident_actions_shared::spelled_enum! {
//!     /// A light.
//!     pub enum Light {
//!         /// Stop.
//!         Red = "red",
//!         /// Go.
//!         Green = "green",
//!     }
//! }
//! assert_eq!(Light::ALL, [Light::Red, Light::Green]);
//! assert_eq!(Light::parse("green"), Some(Light::Green));
//! assert_eq!(Light::Red.to_string(), "red");
//! ```

/// Declares an enum with one spelling per variant (see the module's documentation).
/// Attributes before `enum` (docs, more derives, `cfg_attr`) are kept. A spelling is taken
/// as a token tree, not a `literal` fragment, so derives such as utoipa's read it.
#[macro_export]
macro_rules! spelled_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $spelling:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]
        $vis enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $spelling)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($spelling),+].len()] = [$(Self::$variant),+];

            /// The one spelling: on the wire, in D1 and in KV.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $spelling,)+
                }
            }

            /// The value spelled exactly `raw`, if any.
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|value| value.as_str() == raw)
            }

            /// Every spelling, comma-separated, for a message: `red, green`.
            pub fn spellings() -> String {
                Self::ALL.map(Self::as_str).join(", ")
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
