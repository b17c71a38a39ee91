//! Licence seats: how many units of a SKU the tenant has paid for and how many are used.

/// The units of one subscribed SKU (Graph's `subscribedSkus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceSeats {
    pub sku_id: String,
    /// The SKU's readable name, e.g. `STANDARDWOFFPACK_STUDENT`.
    pub part_number: String,
    /// Units paid for and enabled (`prepaidUnits.enabled`).
    pub prepaid: i64,
    /// Units assigned to users (`consumedUnits`).
    pub consumed: i64,
}

impl LicenceSeats {
    /// Units left for new users; never negative (a tenant may be over its count).
    pub fn free(&self) -> i64 {
        (self.prepaid - self.consumed).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_seats_are_prepaid_minus_consumed_and_never_negative() {
        let seats = |prepaid, consumed| LicenceSeats {
            sku_id: "sku".into(),
            part_number: "PART".into(),
            prepaid,
            consumed,
        };
        assert_eq!(seats(10, 3).free(), 7);
        assert_eq!(seats(10, 10).free(), 0);
        assert_eq!(seats(5, 8).free(), 0);
    }
}
