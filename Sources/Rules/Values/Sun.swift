import Foundation

/// Where the home is, for the sun's times: `latitude` and `longitude` in the
/// settings file, in degrees (north and east positive).
public struct GeoLocation: Sendable, Hashable, Codable {
    public let latitude: Double
    public let longitude: Double

    /// Degrees north (south negative).
    public static let latitudes: ClosedRange<Double> = -90...90
    /// Degrees east (west negative).
    public static let longitudes: ClosedRange<Double> = -180...180

    /// Nil unless the latitude is in ``latitudes`` and the longitude in ``longitudes``.
    public init?(latitude: Double, longitude: Double) {
        guard Self.latitudes.contains(latitude), Self.longitudes.contains(longitude) else { return nil }
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// The moments of a day that rules can use.
public enum SunEvent: String, Sendable, Hashable, Codable, CaseIterable {
    /// The upper edge of the sun appears: its centre 0.833° below the horizon (refraction and its radius).
    case sunrise
    /// The upper edge of the sun disappears.
    case sunset
}

/// Sunrise and sunset, computed locally from NOAA's solar equations (after
/// Meeus' Astronomical Algorithms): within a minute of published tables
/// between 72° south and north, within ten minutes beyond.
public enum SunCalculator {
    /// What the sun does on one day at one place.
    public enum Day: Sendable, Hashable {
        case risesAndSets(sunrise: Date, sunset: Date)
        /// The sun stays up all day (summer beyond the polar circles).
        case polarDay
        /// The sun stays down all day (winter beyond the polar circles).
        case polarNight
    }

    /// The sun's day at `location` on the calendar day that contains `date`
    /// in `calendar`'s time zone.
    public static func day(containing date: Date, at location: GeoLocation, calendar: Calendar) -> Day {
        // The sun crosses the meridian close to noon on the local clock.
        let noon = calendar.startOfDay(for: date).addingTimeInterval(12 * 3600)
        guard let sunrise = moment(of: .sunrise, near: noon, at: location),
              let sunset = moment(of: .sunset, near: noon, at: location)
        else {
            let declination = solarPosition(at: noon).declination
            // The sun at its highest is above the horizon: day; otherwise night.
            let latitude = location.latitude * .pi / 180
            let noonAltitude = asin(sin(latitude) * sin(declination) + cos(latitude) * cos(declination))
            return noonAltitude > -0.833 * .pi / 180 ? .polarDay : .polarNight
        }
        return .risesAndSets(sunrise: sunrise, sunset: sunset)
    }

    /// The moment of `event` on the calendar day that contains `date`, or
    /// nil in polar day or night.
    public static func time(of event: SunEvent, onDayContaining date: Date, at location: GeoLocation, calendar: Calendar) -> Date? {
        guard case .risesAndSets(let sunrise, let sunset) = day(containing: date, at: location, calendar: calendar) else { return nil }
        return event == .sunrise ? sunrise : sunset
    }

    /// The event nearest the transit next to `noon`: computed at the
    /// estimate, then again at the answer, as the sun moves meanwhile.
    private static func moment(of event: SunEvent, near noon: Date, at location: GeoLocation) -> Date? {
        var estimate = noon
        for _ in 0..<3 {
            let (declination, equationOfTime) = solarPosition(at: estimate)
            let latitude = location.latitude * .pi / 180
            let cosine = cos(90.833 * .pi / 180) / (cos(latitude) * cos(declination)) - tan(latitude) * tan(declination)
            guard (-1.0...1.0).contains(cosine) else { return nil }
            let hourAngle = acos(cosine) * 180 / .pi
            let transit = self.transit(near: noon, longitude: location.longitude, equationOfTime: equationOfTime)
            // Four minutes of time per degree of hour angle.
            let offset = 4 * hourAngle * 60
            estimate = transit.addingTimeInterval(event == .sunrise ? -offset : offset)
        }
        return estimate
    }

    /// Solar noon on the UTC day that puts it closest to `noon`.
    private static func transit(near noon: Date, longitude: Double, equationOfTime: Double) -> Date {
        let midnightUTC = (noon.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
        let minutes = 720 - 4 * longitude - equationOfTime
        var transit = midnightUTC + minutes * 60
        let gap = transit - noon.timeIntervalSince1970
        if gap > 43_200 { transit -= 86_400 } else if gap < -43_200 { transit += 86_400 }
        return Date(timeIntervalSince1970: transit)
    }

    /// The sun's declination (radians) and the equation of time (minutes) at `date`.
    static func solarPosition(at date: Date) -> (declination: Double, equationOfTime: Double) {
        let julianDay = date.timeIntervalSince1970 / 86_400 + 2_440_587.5
        let t = (julianDay - 2_451_545) / 36_525
        func radians(_ degrees: Double) -> Double { degrees * .pi / 180 }
        let meanLongitude = radians((280.46646 + t * (36_000.76983 + t * 0.0003032)).truncatingRemainder(dividingBy: 360))
        let meanAnomaly = radians(357.52911 + t * (35_999.05029 - 0.0001537 * t))
        let eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
        let center = sin(meanAnomaly) * (1.914602 - t * (0.004817 + 0.000014 * t))
            + sin(2 * meanAnomaly) * (0.019993 - 0.000101 * t) + sin(3 * meanAnomaly) * 0.000289
        let omega = radians(125.04 - 1934.136 * t)
        let apparentLongitude = meanLongitude + radians(center - 0.00569 - 0.00478 * sin(omega))
        let meanObliquity = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60
        let obliquity = radians(meanObliquity + 0.00256 * cos(omega))
        let declination = asin(sin(obliquity) * sin(apparentLongitude))
        let y = pow(tan(obliquity / 2), 2)
        let equationOfTime = 4 * (180 / .pi) * (
            y * sin(2 * meanLongitude) - 2 * eccentricity * sin(meanAnomaly)
                + 4 * eccentricity * y * sin(meanAnomaly) * cos(2 * meanLongitude)
                - 0.5 * y * y * sin(4 * meanLongitude) - 1.25 * eccentricity * eccentricity * sin(2 * meanAnomaly))
        return (declination, equationOfTime)
    }
}
