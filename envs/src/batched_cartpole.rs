//! [`CartPoleBatch`]: many cart-poles stepped together.
