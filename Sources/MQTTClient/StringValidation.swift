import MQTT

/// The checks on caller-supplied strings made before anything reaches the
/// encoder: a string the broker refuses would cost the whole connection.
enum StringValidation {
    static func topicName(_ topic: String) throws(MQTTClientError) {
        do { try Topic.validateName(topic) } catch { throw .invalidTopicName(topic, error) }
        try noNullCharacter(topic)
    }

    static func topicFilter(_ filter: String) throws(MQTTClientError) {
        do { try Topic.validateFilter(filter) } catch { throw .invalidTopicFilter(filter, error) }
        try noNullCharacter(filter)
    }

    /// MQTT strings must not contain U+0000 (§1.5.3); `Topic`'s checks do
    /// not look for it, and a broker closes the connection over it.
    static func noNullCharacter(_ string: String) throws(MQTTClientError) {
        if string.utf8.contains(0) { throw .nullCharacter(in: string) }
    }
}
